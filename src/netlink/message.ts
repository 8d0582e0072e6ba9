// Netlink messages in bytes (netlink(7)): the 16-byte nlmsghdr, attributes (rtattr/nlattr: length, type, value,
// each padded to 4 bytes, nested ones holding attributes), and the kernel's replies, errors and acknowledgements
// included. Pure: no socket here (socket.ts sends what this builds). Every attribute keeps a name and a printable
// value, so that one structure is both the bytes sent and the words --explain prints.

/** nlmsghdr's length: len u32, type u16, flags u16, seq u32, pid u32. */
export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
/** New requests: replace an existing object, fail if it exists, create it. */
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
/** In an acknowledgement: the request is not echoed (NETLINK_CAP_ACK); extended-ack attributes follow. */
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;
/** The extended acknowledgement's text. */
const NLMSGERR_ATTR_MSG = 1;
/** The nested bit of an attribute's type (set by some senders, ignored when reading). */
const NLA_TYPE_MASK = 0x3fff;

const align4 = (length: number) => (length + 3) & ~3;

/** A leaf attribute's bytes and how --explain shows them; a nested one's children, after an optional fixed header. */
export type Attribute =
  | { name: string; type: number; data: Uint8Array; shown: string }
  | { name: string; type: number; header: { data: Uint8Array; shown: string } | null; nested: readonly Attribute[] };

export function stringAttribute(name: string, type: number, value: string): Attribute {
  return { name, type, data: Buffer.from(`${value}\0`), shown: JSON.stringify(value) };
}

export function u32Attribute(name: string, type: number, value: number, shown = String(value)): Attribute {
  const data = Buffer.alloc(4);
  data.writeUInt32LE(value >>> 0); // netlink is host byte order: little-endian on every machine minictr supports
  return { name, type, data, shown };
}

export function u8Attribute(name: string, type: number, value: number, shown = String(value)): Attribute {
  return { name, type, data: Uint8Array.of(value), shown };
}

export function bytesAttribute(name: string, type: number, data: Uint8Array, shown: string): Attribute {
  return { name, type, data, shown };
}

export function nestedAttribute(
  name: string,
  type: number,
  nested: readonly Attribute[],
  header: { data: Uint8Array; shown: string } | null = null,
): Attribute {
  return { name, type, header, nested };
}

/** A request: its type and flags (NLM_F_REQUEST is added), the fixed header of its family, then attributes. */
export interface Request {
  /** e.g. RTM_NEWLINK, for --explain and errors. */
  name: string;
  type: number;
  flags: number;
  header: { data: Uint8Array; shown: string };
  attributes: readonly Attribute[];
}

function attributeBytes(attribute: Attribute): Buffer {
  const value =
    'data' in attribute
      ? Buffer.from(attribute.data)
      : Buffer.concat([attribute.header === null ? Buffer.alloc(0) : padded(attribute.header.data), ...attribute.nested.map(attributeBytes)]);
  const head = Buffer.alloc(4);
  head.writeUInt16LE(4 + value.length, 0);
  head.writeUInt16LE(attribute.type, 2);
  return padded(Buffer.concat([head, value]));
}

function padded(data: Uint8Array): Buffer {
  const out = Buffer.alloc(align4(data.length));
  out.set(data);
  return out;
}

/** The request's bytes with sequence number `seq` (the kernel fills in the sender's port). */
export function encodeRequest(request: Request, seq: number): Buffer {
  const payload = Buffer.concat([padded(request.header.data), ...request.attributes.map(attributeBytes)]);
  const head = Buffer.alloc(NLMSG_HDRLEN);
  head.writeUInt32LE(NLMSG_HDRLEN + payload.length, 0);
  head.writeUInt16LE(request.type, 4);
  head.writeUInt16LE(request.flags | NLM_F_REQUEST, 6);
  head.writeUInt32LE(seq >>> 0, 8);
  return Buffer.concat([head, payload]);
}

const FLAG_NAMES: [number, string][] = [
  [NLM_F_CREATE, 'NLM_F_CREATE'],
  [NLM_F_EXCL, 'NLM_F_EXCL'],
  [NLM_F_REPLACE, 'NLM_F_REPLACE'],
];

function describeAttribute(attribute: Attribute): string {
  if ('data' in attribute) return `${attribute.name} ${attribute.shown}`;
  const inner = [...(attribute.header === null ? [] : [attribute.header.shown]), ...attribute.nested.map(describeAttribute)];
  return `${attribute.name} {${inner.join(', ')}}`;
}

/** One line naming the message as --explain shows it: "RTM_NEWLINK(NLM_F_CREATE|NLM_F_EXCL) ifinfomsg{...} IFLA_IFNAME "x", ...". */
export function describeRequest(request: Request): string {
  const flags = FLAG_NAMES.filter(([bit]) => (request.flags & bit) !== 0).map(([, name]) => name);
  const attributes = request.attributes.map(describeAttribute).join(', ');
  return `${request.name}${flags.length > 0 ? `(${flags.join('|')})` : ''} ${request.header.shown}${attributes ? ` ${attributes}` : ''}`;
}

/** A message from the kernel: header fields and the payload after the header. */
export interface Reply {
  type: number;
  flags: number;
  seq: number;
  payload: Buffer;
}

/** Splits a datagram into its messages; a truncated or malformed one ends the walk with an error. */
export function parseReplies(datagram: Buffer): Reply[] {
  const replies: Reply[] = [];
  let offset = 0;
  while (offset + NLMSG_HDRLEN <= datagram.length) {
    const length = datagram.readUInt32LE(offset);
    if (length < NLMSG_HDRLEN || offset + length > datagram.length) {
      throw new Error(`malformed netlink message at byte ${offset}: length ${length} of ${datagram.length - offset}`);
    }
    replies.push({
      type: datagram.readUInt16LE(offset + 4),
      flags: datagram.readUInt16LE(offset + 6),
      seq: datagram.readUInt32LE(offset + 8),
      payload: datagram.subarray(offset + NLMSG_HDRLEN, offset + length),
    });
    offset += align4(length);
  }
  return replies;
}

/** An NLMSG_ERROR's content: errno 0 is an acknowledgement; `message` is the kernel's extended-ack text. */
export function parseError(reply: Reply): { errno: number; message: string | null } {
  const errno = 0 - reply.payload.readInt32LE(0); // never -0 for an acknowledgement
  let message: string | null = null;
  if ((reply.flags & NLM_F_ACK_TLVS) !== 0) {
    // The request's header (capped) or whole request follows the error code, then the attributes.
    const echoed = (reply.flags & NLM_F_CAPPED) !== 0 ? NLMSG_HDRLEN : reply.payload.readUInt32LE(4);
    const text = parseAttributes(reply.payload, 4 + align4(echoed)).get(NLMSGERR_ATTR_MSG);
    if (text !== undefined) message = cString(text);
  }
  return { errno, message };
}

/** The attributes from `offset` to the end, by type (the last of a repeated type wins). */
export function parseAttributes(data: Buffer, offset = 0): Map<number, Buffer> {
  const attributes = new Map<number, Buffer>();
  while (offset + 4 <= data.length) {
    const length = data.readUInt16LE(offset);
    if (length < 4 || offset + length > data.length) break;
    attributes.set(data.readUInt16LE(offset + 2) & NLA_TYPE_MASK, data.subarray(offset + 4, offset + length));
    offset += align4(length);
  }
  return attributes;
}

/** A NUL-terminated string attribute's text. */
export function cString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.toString('utf8', 0, end === -1 ? data.length : end);
}
