import pg from 'pg';
import { type Clock, systemClock } from '../base/clock.ts';
import { OutageLog } from '../base/outage-log.ts';

export const CHANNEL = 'backorder_api_changes';

/**
 * Cross-instance wake-ups. One listening connection per instance, reconnecting by itself; the wake-up
 * carries no data (the change log does), so a lost one costs latency, never an update.
 * Sending is coalesced and happens after commit on its own connection, never inside a write transaction.
 */
export class Wakeup {
  private client: pg.Client | undefined;
  private stopped = false;
  private reconnectTimer: unknown;
  private attempt = 0;
  private sending = false;
  private sendAgain = false;
  /** The listening connection's backend pid, for tests that cut it. */
  listenerPid: number | undefined;
  /** When the listening connection was lost (clock ms); undefined while it listens. */
  private lostAt: number | undefined;

  private readonly listening: OutageLog;
  private readonly sendingOutage: OutageLog;

  constructor(
    private readonly url: string,
    private readonly notifyPool: pg.Pool | { query(text: string): Promise<unknown> },
    private readonly onWake: (reason: 'notify' | 'reconnect') => void,
    log: { info?(message: string): void; warn(message: string): void },
    private readonly clock: Clock = systemClock,
  ) {
    const now = () => clock.now();
    this.listening = new OutageLog('change listener (instances poll meanwhile)', log, now);
    this.sendingOutage = new OutageLog('sending wake-ups (instances poll meanwhile)', log, now);
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'backorder-api-listener' });
    client.on('notification', () => this.onWake('notify'));
    client.on('error', (err) => {
      this.listening.failed(err);
      this.scheduleReconnect(client);
    });
    client.on('end', () => this.scheduleReconnect(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      this.listenerPid = rows[0]?.pid;
    } catch (err) {
      // Not yet the listener: nothing would ever end this connection but us.
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      throw err;
    }
    this.client = client;
    this.attempt = 0;
    this.lostAt = undefined;
    this.listening.succeeded();
  }

  private scheduleReconnect(lost: pg.Client): void {
    if (this.stopped || this.client !== lost || this.reconnectTimer) return;
    this.client = undefined;
    this.listenerPid = undefined;
    this.lostAt ??= this.clock.now();
    lost.removeAllListeners('end');
    lost.end().catch(() => {});
    const delay = Math.min(5_000, 100 * 2 ** this.attempt++);
    this.reconnectTimer = this.clock.setTimeout(async () => {
      this.reconnectTimer = undefined;
      try {
        await this.connect();
        // Whatever was committed while nobody listened is in the change log: read it now.
        this.onWake('reconnect');
      } catch (err) {
        this.listening.failed(err);
        this.client = lost;
        this.scheduleReconnect(lost);
      }
    }, delay);
  }

  /** Whether the listening connection is up, and since when it has been down (for readiness). */
  state(): { connected: boolean; downSince: number | undefined } {
    return { connected: this.client !== undefined && this.lostAt === undefined, downSince: this.lostAt };
  }

  /** Tells every instance to read the change log. At most one NOTIFY in flight; bursts fold into one more. */
  notify(): void {
    if (this.stopped) return;
    if (this.sending) {
      this.sendAgain = true;
      return;
    }
    this.sending = true;
    this.notifyPool
      .query(`NOTIFY ${CHANNEL}`)
      .then(
        () => this.sendingOutage.succeeded(),
        (err: Error) => this.sendingOutage.failed(err),
      )
      .finally(() => {
        this.sending = false;
        if (this.sendAgain) {
          this.sendAgain = false;
          this.notify();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
    }
  }
}
