// Netlink messages in bytes (netlink(7)): the 16-byte nlmsghdr, attributes (rtattr/nlattr: length, type, value,
// each padded to 4 bytes, nested ones holding attributes), and the kernel's replies, errors and acknowledgements
// included. Pure: no socket here (socket.ts sends what this builds). Every attribute keeps a name and a printable
// value, so that one structure is both the bytes sent and the words --explain prints.
//
// Bytes are written and read through DataViews, and a datagram is encoded in one pass into one buffer: Buffer's
// own read/write/concat methods cost a run their first-call price (~0.1 ms each) on the veth step.

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

/**
 * A fixed-size structure (a family header, an attribute's value) of `length` zero bytes, whose fields `fill` sets.
 * Netlink is host byte order: little-endian (setUint32(…, true)) on every machine minictr supports.
 */
export function struct(length: number, fill: (view: DataView) => void): Uint8Array {
  const data = new Uint8Array(length);
  fill(new DataView(data.buffer));
  return data;
}

/** A DataView on exactly the bytes of `data` (which may be a slice of a larger buffer). */
export function viewOf(data: Uint8Array): DataView {
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

export function u32Attribute(name: string, type: number, value: number, shown = String(value)): Attribute {
  return { name, type, data: struct(4, (view) => view.setUint32(0, value >>> 0, true)), shown };
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

/** An attribute's length as its header states it: 4 + its value (a nested one's children padded within). */
function attributeLength(attribute: Attribute): number {
  if ('data' in attribute) return 4 + attribute.data.length;
  const header = attribute.header === null ? 0 : align4(attribute.header.data.length);
  return attribute.nested.reduce((length, child) => length + align4(attributeLength(child)), 4 + header);
}

/** Writes `attribute` at `offset` of `bytes` (zeroed, so padding needs no writing); returns the padded end. */
function writeAttribute(bytes: Uint8Array, view: DataView, offset: number, attribute: Attribute): number {
  const length = attributeLength(attribute);
  view.setUint16(offset, length, true);
  view.setUint16(offset + 2, attribute.type, true);
  if ('data' in attribute) bytes.set(attribute.data, offset + 4);
  else {
    let at = offset + 4;
    if (attribute.header !== null) {
      bytes.set(attribute.header.data, at);
      at += align4(attribute.header.data.length);
    }
    for (const child of attribute.nested) at = writeAttribute(bytes, view, at, child);
  }
  return offset + align4(length);
}

function requestLength(request: Request): number {
  return request.attributes.reduce((length, attribute) => length + align4(attributeLength(attribute)), NLMSG_HDRLEN + align4(request.header.data.length));
}

/** The requests' bytes, one after the other, request i with sequence number `seq` + i (the kernel fills in the sender's port). */
export function encodeRequests(requests: readonly Request[], seq: number): Buffer {
  const bytes = Buffer.alloc(requests.reduce((total, request) => total + requestLength(request), 0));
  const view = viewOf(bytes);
  let offset = 0;
  requests.forEach((request, i) => {
    const length = requestLength(request);
    view.setUint32(offset, length, true);
    view.setUint16(offset + 4, request.type, true);
    view.setUint16(offset + 6, request.flags | NLM_F_REQUEST, true);
    view.setUint32(offset + 8, (seq + i) >>> 0, true);
    bytes.set(request.header.data, offset + NLMSG_HDRLEN);
    let at = offset + NLMSG_HDRLEN + align4(request.header.data.length);
    for (const attribute of request.attributes) at = writeAttribute(bytes, view, at, attribute);
    offset += length;
  });
  return bytes;
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
  const view = viewOf(datagram);
  let offset = 0;
  while (offset + NLMSG_HDRLEN <= datagram.length) {
    const length = view.getUint32(offset, true);
    if (length < NLMSG_HDRLEN || offset + length > datagram.length) {
      throw new Error(`malformed netlink message at byte ${offset}: length ${length} of ${datagram.length - offset}`);
    }
    replies.push({
      type: view.getUint16(offset + 4, true),
      flags: view.getUint16(offset + 6, true),
      seq: view.getUint32(offset + 8, true),
      payload: datagram.subarray(offset + NLMSG_HDRLEN, offset + length),
    });
    offset += align4(length);
  }
  return replies;
}

/** An NLMSG_ERROR's content: errno 0 is an acknowledgement; `message` is the kernel's extended-ack text. */
export function parseError(reply: Reply): { errno: number; message: string | null } {
  const view = viewOf(reply.payload);
  const errno = 0 - view.getInt32(0, true); // never -0 for an acknowledgement
  let message: string | null = null;
  if ((reply.flags & NLM_F_ACK_TLVS) !== 0) {
    // The request's header (capped) or whole request follows the error code, then the attributes.
    const echoed = (reply.flags & NLM_F_CAPPED) !== 0 ? NLMSG_HDRLEN : view.getUint32(4, true);
    const text = parseAttributes(reply.payload, 4 + align4(echoed)).get(NLMSGERR_ATTR_MSG);
    if (text !== undefined) message = cString(text);
  }
  return { errno, message };
}

/** The attributes from `offset` to the end, by type (the last of a repeated type wins). */
export function parseAttributes(data: Buffer, offset = 0): Map<number, Buffer> {
  const attributes = new Map<number, Buffer>();
  const view = viewOf(data);
  while (offset + 4 <= data.length) {
    const length = view.getUint16(offset, true);
    if (length < 4 || offset + length > data.length) break;
    attributes.set(view.getUint16(offset + 2, true) & NLA_TYPE_MASK, data.subarray(offset + 4, offset + length));
    offset += align4(length);
  }
  return attributes;
}

/** A NUL-terminated string attribute's text. */
export function cString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.toString('utf8', 0, end === -1 ? data.length : end);
}
