// Stryker runs the tests once per mutant: fewer generated cases per property keep a run
// within minutes. A mutant is killed by the first failing case, which comes early for a
// changed comparison or constant; `npm test` still runs the full 100 cases.
import fc from 'fast-check';

fc.configureGlobal({ numRuns: 20 });
