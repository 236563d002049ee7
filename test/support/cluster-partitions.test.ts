import { expect, it } from 'vitest';
import { partitionCount } from './cluster-partitions.js';

it('counts the peers named in rabbit_node_monitor:partitions() as rabbitmqctl eval prints it', () => {
  expect(partitionCount('[]\n')).toBe(0);
  expect(partitionCount("['ferry-cluster-1-15025-bb18df5d@localhost']\n")).toBe(1);
  expect(
    partitionCount(
      "['ferry-cluster-1-15025-bb18df5d@localhost',\n 'ferry-cluster-2-15025-9e6f71ed@localhost']\n",
    ),
  ).toBe(2);
});
