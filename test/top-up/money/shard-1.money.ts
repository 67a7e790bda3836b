import { moneyShard } from './shard.ts';

moneyShard(0);
