// A throwaway 3-member etcd cluster on loopback for the side-by-side benchmark: fsync on
// (etcd's default), the heartbeat and election timeout given by the caller (the tinykv
// cluster's), data under a temporary folder. Members are started and stopped by PID.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from './real-cluster.js';

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly endpoint: string;
  proc: ChildProcess | undefined;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Starts (or restarts, on its data) one member. */
  start(m: EtcdMember): void;
  /** SIGKILL one member and wait until it is gone. */
  kill(m: EtcdMember): Promise<void>;
  stop(): Promise<void>;
}

/** The etcd binary's version line, or undefined when etcd is not installed. */
export function etcdVersion(): string | undefined {
  const r = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split('\n')[0]!.trim();
}

export async function startEtcdCluster(dir: string, o: { heartbeatMs: number; electionMs: number }): Promise<EtcdCluster> {
  const ports = await freePorts(6);
  const members: EtcdMember[] = [0, 1, 2].map((i) => ({
    name: `e${i + 1}`, clientUrl: `http://127.0.0.1:${ports[i]}`, endpoint: `127.0.0.1:${ports[i]}`, proc: undefined,
  }));
  const peerUrl = (i: number) => `http://127.0.0.1:${ports[3 + i]}`;
  const initial = members.map((m, i) => `${m.name}=${peerUrl(i)}`).join(',');
  const start = (m: EtcdMember): void => {
    const i = members.indexOf(m);
    const data = join(dir, m.name);
    mkdirSync(data, { recursive: true });
    const log = openSync(join(dir, `${m.name}.log`), 'a');
    m.proc = spawn('etcd', [
      '--name', m.name, '--data-dir', data,
      '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', peerUrl(i), '--initial-advertise-peer-urls', peerUrl(i),
      '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', 'tinykv-bench',
      '--heartbeat-interval', String(o.heartbeatMs), '--election-timeout', String(o.electionMs),
      '--logger', 'zap', '--log-level', 'warn',
    ], { stdio: ['ignore', log, log] });
  };
  const kill = async (m: EtcdMember): Promise<void> => {
    const p = m.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGKILL');
    await gone;
    m.proc = undefined;
  };
  members.forEach(start);
  return {
    members, start, kill,
    stop: async () => {
      await Promise.all(members.map(kill));
    },
  };
}
