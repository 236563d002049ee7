/**
 * Throwaway nodes and folders left behind by a test process that died without cleaning up (killed by
 * a CI timeout, `kill -9`, a crashed worker): their VMs hold ports, memory and CPU that the next run's
 * nodes need, and their folders fill `/tmp`. Each node and folder names the test process that started
 * it ({@link OWNER_ENV}, {@link OWNER_FILE}); only those whose owner is gone are removed, so the nodes
 * of other test processes running at the same time are left alone.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The environment variable a throwaway node's VM carries: the pid of the test process that owns it. */
export const OWNER_ENV = 'FERRY_THROWAWAY_OWNER';
/** The file in a throwaway node's folder that holds the owning test process's pid. */
export const OWNER_FILE = 'owner';
/** Prefix of a throwaway node's folder under the OS temp folder. */
export const FOLDER_PREFIX = 'ferry-rabbit-';
/**
 * A folder without an owner file is removed only when this old: it may belong to a node being set up
 * right now (the file is written just after the folder is made), or to a run of an older version.
 */
const UNOWNED_FOLDER_AGE_MS = 30 * 60_000;

/** What {@link removeStaleThrowawayNodes} removed. */
export interface StaleRemoval {
  /** Node names (or pids, when the name cannot be read) of the VMs killed. */
  readonly nodes: readonly string[];
  readonly folders: readonly string[];
}

/** Whether a process with `pid` exists (a zombie counts: its pid is not free for reuse yet). */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The environment of process `pid` as a map, or `undefined` when it cannot be read. */
function environmentOf(pid: number): Map<string, string> | undefined {
  const raw = readText(`/proc/${pid}/environ`);
  if (raw === undefined) return undefined;
  const entries = raw.split('\0').flatMap((entry): [string, string][] => {
    const at = entry.indexOf('=');
    return at < 0 ? [] : [[entry.slice(0, at), entry.slice(at + 1)]];
  });
  return new Map(entries);
}

/**
 * Kills every throwaway VM whose owning test process is gone and removes every throwaway folder no live
 * owner claims. Safe while other test processes run throwaway nodes of their own.
 */
export async function removeStaleThrowawayNodes(): Promise<StaleRemoval> {
  const nodes: string[] = [];
  const inUse = new Set<string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const env = environmentOf(pid);
    const pidFile = env?.get('RABBITMQ_PID_FILE');
    if (env === undefined || pidFile === undefined) continue;
    // Only the VM itself: the `su` and shell wrappers that started it carry the same environment.
    if (!(readText(`/proc/${pid}/comm`) ?? '').startsWith('beam')) continue;
    const folder = join(pidFile, '..');
    const owner = Number(env.get(OWNER_ENV) ?? Number.NaN);
    // A node without an owner was started by an older helper: its folder is in use, the node left be.
    if (!Number.isInteger(owner) || exists(owner)) {
      inUse.add(folder);
      continue;
    }
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
      nodes.push(env.get('RABBITMQ_NODENAME') ?? String(pid));
    } catch {
      // Gone in the meantime.
    }
  }
  const folders: string[] = [];
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(FOLDER_PREFIX)) continue;
    const folder = join(tmpdir(), name);
    if (inUse.has(folder)) continue;
    const owner = Number(readText(join(folder, OWNER_FILE)));
    const stale = Number.isInteger(owner) && owner > 0 ? !exists(owner) : isOld(folder);
    if (!stale) continue;
    await rm(folder, { recursive: true, force: true });
    folders.push(folder);
  }
  return { nodes, folders };
}

function isOld(folder: string): boolean {
  try {
    return Date.now() - statSync(folder).mtimeMs > UNOWNED_FOLDER_AGE_MS;
  } catch {
    return false;
  }
}
