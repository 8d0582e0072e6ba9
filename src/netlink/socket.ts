// A netlink conversation through the addon's socket (native/src/netlink.cc): requests go out in one sendmsg, each
// asking for an acknowledgement (or, for a dump, answered until NLMSG_DONE), and the replies are sorted back to
// their request by sequence number. A failed request becomes a NetlinkError naming the request, the errno and the
// kernel's own explanation when it gives one; what a caller tolerates (EEXIST, ENODEV) it decides itself.

import { closeSync } from 'node:fs';
import type { NativeAddon } from '../native/index.js';
import { encodeRequests, NLM_F_ACK, NLM_F_DUMP, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, parseError, parseReplies, type Reply, type Request } from './message.js';

export class NetlinkError extends Error {
  readonly errno: number;
  readonly code: string;

  constructor(what: string, errno: number, code: string, description: string, detail: string | null) {
    super(`${what}: ${description} (${code})${detail === null ? '' : `: ${detail}`}`);
    this.name = 'NetlinkError';
    this.errno = errno;
    this.code = code;
  }
}

/** What became of one request: its data replies (a dump's, a get's), and its error if it failed. */
export interface Outcome {
  replies: Reply[];
  error: NetlinkError | null;
}

let nextSeq = 1;

export class NetlinkSocket {
  private readonly fd: number;

  constructor(
    private readonly addon: NativeAddon,
    protocol: number,
  ) {
    this.fd = addon.netlinkSocket(protocol);
  }

  /**
   * Sends the requests in one datagram and waits for each one's end. `describe(i)` names request i in its error
   * (e.g. the ip command it stands for).
   */
  exchange(requests: readonly Request[], describe: (index: number) => string): Outcome[] {
    if (requests.length === 0) return [];
    const first = nextSeq;
    nextSeq += requests.length;
    const outcomes: (Outcome | undefined)[] = requests.map(() => undefined);
    const replies: Reply[][] = requests.map(() => []);
    this.addon.netlinkSend(this.fd, encodeRequests(requests.map((request) => ({ ...request, flags: request.flags | (isDump(request) ? 0 : NLM_F_ACK) })), first));
    let pending = requests.length;
    while (pending > 0) {
      for (const reply of parseReplies(this.addon.netlinkReceive(this.fd))) {
        const index = reply.seq - first;
        if (index < 0 || index >= requests.length || outcomes[index] !== undefined || reply.type === NLMSG_NOOP) continue;
        if (reply.type === NLMSG_ERROR) {
          const { errno, message } = parseError(reply);
          outcomes[index] = { replies: replies[index]!, error: errno === 0 ? null : this.error(describe(index), errno, message) };
        } else if (reply.type === NLMSG_DONE) {
          outcomes[index] = { replies: replies[index]!, error: null };
        } else {
          replies[index]!.push(reply);
          continue;
        }
        pending--;
      }
    }
    return outcomes as Outcome[];
  }

  close(): void {
    closeSync(this.fd);
  }

  private error(what: string, errno: number, detail: string | null): NetlinkError {
    const { code, message } = this.addon.errnoDescription(errno);
    return new NetlinkError(what, errno, code, message, detail);
  }
}

function isDump(request: Request): boolean {
  return (request.flags & NLM_F_DUMP) === NLM_F_DUMP;
}

/** Opens a socket of `protocol`, hands it to `use`, and closes it whatever happens. */
export function withNetlink<T>(addon: NativeAddon, protocol: number, use: (socket: NetlinkSocket) => T): T {
  const socket = new NetlinkSocket(addon, protocol);
  try {
    return use(socket);
  } finally {
    socket.close();
  }
}
