// Many graphql-ws connections following one backup: delivery latency (the server's
// progress.updatedAt against the client's clock at receipt: one machine, one clock) and the
// server's memory per connection. Runs on the backup-restore bench's server and database.
import { type Api, createBackup, follow, openWs, startJob } from './bench-api.js';
import { mb, median, percentile, sampleRss, steadyRss } from './bench-support.js';

export async function measureSubscribers(api: Api, pid: number, count: number, backupSeconds: number): Promise<string> {
  const idle = await steadyRss(pid);
  const clients = await Promise.all(Array.from({ length: count }, () => openWs(api.url, api.token)));
  try {
    const connected = await steadyRss(pid);
    const rss = sampleRss(pid);
    const { jobId, start } = await startJob(api, createBackup);
    const followed = await Promise.all(clients.map((client) => follow(client, jobId)));
    const peak = await rss.stop();
    const end = Math.max(...followed.map((f) => f.events.at(-1)!.at));
    // The first value is a replay of the state at subscription time, and the final state change
    // carries the last snapshot: neither measures delivery.
    const latencies = followed.flatMap((f) =>
      f.events
        .slice(1)
        .filter((e) => e.job.state === 'running' && e.job.progress)
        .map((e) => e.wallAt - Date.parse(e.job.progress!.updatedAt)),
    );
    const perSubscriber = followed.map((f) => f.events.length);
    return [
      `### ${count} graphql-ws subscribers on one backup`,
      '',
      `${count} connections (one per client, API token) subscribe to \`jobProgress\` of one backup of the same database; latency is the client's clock at receipt minus the snapshot's \`updatedAt\` (set by the server when it publishes; same machine, same clock, millisecond resolution). The clients run in the bench process, on the same 2 CPUs as the server and PostgreSQL.`,
      '',
      '| measure | value |',
      '|---|---|',
      `| delivery latency p50 / p95 / max | ${percentile(latencies, 0.5)} / ${percentile(latencies, 0.95)} / ${Math.max(...latencies)} ms (${latencies.length} deliveries) |`,
      `| server memory per connection (RSS connected - idle, / ${count}) | ${((connected - idle) / count / 1024).toFixed(0)} KB (idle ${mb(idle)}, ${count} connected ${mb(connected)}) |`,
      `| server peak RSS during the backup, over the connected baseline | ${mb(peak.max - connected)} |`,
      `| events per subscriber (median) | ${median(perSubscriber)}; all ${followed.length} saw the job succeed |`,
      `| the backup with ${count} subscribers / the median backup with one | ${((end - start) / 1000).toFixed(2)} s / ${backupSeconds.toFixed(2)} s |`,
      '',
    ].join('\n');
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
  }
}
