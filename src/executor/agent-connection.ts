// HTTP transport to the agent's /api/v1/executor: one dedicated connection carrying the SUBSCRIBE
// call and its RecordIO event stream, and a separate keep-alive connection for all other calls
// (the API requires them to be different connections).
import http from 'node:http';
import type https from 'node:https';
import type { AgentEndpoint } from '../config/agent-endpoint.js';
import type { ContentType } from '../config/executor-config.js';
import { decodeEvent, encodeCall } from '../protocol/codec.js';
import { RecordIODecoder, RecordIOError } from '../protocol/recordio.js';
import { mesos } from '../proto/generated/mesos.js';
import { ExecutorError } from '../errors.js';
import { errorMessage, log } from '../log.js';
import { httpsModule } from '../rare-builtins.js';

export type Event = mesos.v1.executor.Event;
export type Call = mesos.v1.executor.ICall;

export type SubscriptionEnd =
  // The agent never opened the stream: connection failure or a non-200 answer.
  | { kind: 'refused'; status: number | undefined; message: string }
  // The stream was open and then ended, broke, or carried garbage.
  | { kind: 'closed'; message: string };

export interface Subscription {
  readonly done: Promise<SubscriptionEnd>;
  close(): void;
}

export class AgentCallError extends ExecutorError<'ERR_AGENT_CALL'> {
  readonly status: number | undefined;

  constructor(message: string, status: number | undefined, cause?: unknown) {
    super(message, { name: 'AgentCallError', code: 'ERR_AGENT_CALL', cause });
    this.status = status;
  }
}

const CALL_TIMEOUT_MS = 30_000;

export class AgentConnection {
  private readonly endpoint: AgentEndpoint;
  private readonly contentType: ContentType;
  private readonly authToken: string | undefined;
  private readonly callAgent: http.Agent;

  constructor(options: { endpoint: AgentEndpoint; contentType: ContentType; authToken: string | undefined }) {
    this.endpoint = options.endpoint;
    this.contentType = options.contentType;
    this.authToken = options.authToken;
    const AgentClass = options.endpoint.protocol === 'https:' ? httpsModule().Agent : http.Agent;
    // One socket: calls leave in the order they were made.
    this.callAgent = new AgentClass({ keepAlive: true, maxSockets: 1 });
  }

  close(): void {
    this.callAgent.destroy();
  }

  subscribe(call: Call, handlers: { onOpen(): void; onEvent(event: Event): void }): Subscription {
    let request: http.ClientRequest | undefined;
    let finish: (end: SubscriptionEnd) => void = () => undefined;
    const done = new Promise<SubscriptionEnd>((resolve) => {
      let settled = false;
      finish = (end) => {
        if (settled) return;
        settled = true;
        request?.destroy();
        resolve(end);
      };
    });

    let body: Buffer;
    try {
      body = encodeCall(call, this.contentType);
    } catch (error) {
      finish({ kind: 'refused', status: undefined, message: `Could not encode SUBSCRIBE: ${errorMessage(error)}` });
      return { done, close: () => undefined };
    }

    let opened = false;
    request = this.request(body, false);
    request.on('error', (error) => {
      finish(opened
        ? { kind: 'closed', message: `Event stream broke: ${error.message}` }
        : { kind: 'refused', status: undefined, message: `Cannot reach the agent at ${this.endpoint.description}: ${error.message}` });
    });
    request.on('response', (response) => {
      if (response.statusCode !== 200) {
        readText(response).then((text) => finish({
          kind: 'refused',
          status: response.statusCode,
          message: `Agent answered SUBSCRIBE with ${response.statusCode} ${response.statusMessage ?? ''}${text ? `: ${text}` : ''}`.trim(),
        }));
        return;
      }
      opened = true;
      handlers.onOpen();
      const eventType = streamContentType(response.headers['content-type'], this.contentType);
      const decoder = new RecordIODecoder();
      const deliver = (records: readonly Buffer[]): void => {
        for (const record of records) {
          let event: Event;
          try {
            event = decodeEvent(record, eventType);
          } catch (error) {
            // As the reference library does: report and keep reading.
            // Its bytes stay out of the log: a LAUNCH may carry secret values.
            log.error(`${error instanceof Error ? error.message : String(error)} (a record of ${record.length} bytes; the event is skipped)`);
            continue;
          }
          try {
            handlers.onEvent(event);
          } catch (error) {
            // A bug in handling one event must not take the executor (and its task) down with it.
            log.error(`Failed to handle a ${eventTypeName(event.type)} event: ${error instanceof Error && error.stack ? error.stack : errorMessage(error)}`);
          }
        }
      };
      response.on('data', (chunk: Buffer) => {
        let records: Buffer[];
        try {
          records = decoder.push(chunk);
        } catch (error) {
          // Records complete before the garbage are as good as those of earlier chunks.
          if (error instanceof RecordIOError) deliver(error.records);
          finish({ kind: 'closed', message: `Event stream is corrupt: ${errorMessage(error)}` });
          return;
        }
        deliver(records);
      });
      response.on('end', () => finish({ kind: 'closed', message: 'End-Of-File received from agent: the agent closed the event stream' }));
      response.on('aborted', () => finish({ kind: 'closed', message: 'The event stream was cut off' }));
      response.on('error', (error) => finish({ kind: 'closed', message: `Event stream broke: ${error.message}` }));
      response.on('close', () => finish({ kind: 'closed', message: 'The event stream closed' }));
    });
    request.end(body);
    return { done, close: () => finish({ kind: 'closed', message: 'Closed by the executor' }) };
  }

  // Sends a non-SUBSCRIBE call; resolves when the agent answers 202 Accepted.
  async send(call: Call): Promise<void> {
    const body = encodeCall(call, this.contentType);
    await new Promise<void>((resolve, reject) => {
      const request = this.request(body, true);
      request.setTimeout(CALL_TIMEOUT_MS, () => {
        request.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`));
      });
      request.on('error', (error) => reject(new AgentCallError(`Cannot reach the agent: ${error.message}`, undefined, error)));
      request.on('response', (response) => {
        readText(response).then((text) => {
          if (response.statusCode === 202 || response.statusCode === 200) resolve();
          else reject(new AgentCallError(`Agent answered ${response.statusCode}${text ? `: ${text}` : ''}`, response.statusCode));
        });
      });
      request.end(body);
    });
  }

  private request(body: Buffer, keepAlive: boolean): http.ClientRequest {
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': this.contentType,
      Accept: this.contentType,
      'Content-Length': body.length,
      Connection: 'keep-alive',
    };
    if (this.authToken) headers.Authorization = `Bearer ${this.authToken}`;
    const options: https.RequestOptions = {
      method: 'POST',
      path: this.endpoint.path,
      headers,
      agent: keepAlive ? this.callAgent : false,
    };
    if (this.endpoint.socketPath) options.socketPath = this.endpoint.socketPath;
    else {
      options.host = this.endpoint.host;
      options.port = this.endpoint.port;
    }
    if (this.endpoint.protocol === 'https:') {
      options.rejectUnauthorized = ['1', 'true'].includes((process.env.LIBPROCESS_SSL_VERIFY_CERT ?? '').toLowerCase());
      return httpsModule().request(options);
    }
    return http.request(options);
  }
}

function eventTypeName(type: number | null | undefined): string {
  return mesos.v1.executor.Event.Type[type ?? 0] ?? `type ${String(type)}`;
}

function streamContentType(header: string | undefined, requested: ContentType): ContentType {
  if (header?.startsWith('application/json')) return 'application/json';
  if (header?.startsWith('application/x-protobuf')) return 'application/x-protobuf';
  return requested;
}

async function readText(response: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of response) chunks.push(chunk as Buffer);
  } catch {
    // A body cut short still tells what it could.
  }
  return Buffer.concat(chunks).toString('utf8').trim().slice(0, 500);
}
