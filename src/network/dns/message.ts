// DNS messages (RFC 1035), the little of them a network's resolver needs: read a query's header and question, and
// write an answer of A, AAAA or PTR records. Pure and unit-tested. Names are read with compression pointers (bounded, so a
// loop of pointers cannot hang the reader) and written without them but for the answer's owner name, which
// points at the question (offset 12), as most servers do.

import { formatIpv6, parseIpv6 } from '../subnet6.js';

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_REFUSED = 5;

const HEADER_LENGTH = 12;
const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_RD = 0x0100;
const FLAG_RA = 0x0080;
const OPCODE_MASK = 0x7800;

export interface Question {
  /** Lower-case, without the final dot. */
  name: string;
  type: number;
  class: number;
}

export interface Query {
  id: number;
  flags: number;
  question: Question;
  /** Where the question ends: an answer repeats the query's bytes up to here. */
  questionEnd: number;
}

export class DnsFormatError extends Error {}

/** Reads the name at `offset`; returns it and where the name's bytes end (after the first pointer, if any). */
export function readName(message: Uint8Array, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let position = offset;
  let end = -1;
  for (let jumps = 0; ; ) {
    const length = message[position];
    if (length === undefined) throw new DnsFormatError('name runs past the end of the message');
    if ((length & 0xc0) === 0xc0) {
      const next = message[position + 1];
      if (next === undefined) throw new DnsFormatError('truncated compression pointer');
      if (end < 0) end = position + 2;
      if (++jumps > 16) throw new DnsFormatError('too many compression pointers');
      position = ((length & 0x3f) << 8) | next;
      continue;
    }
    if (length & 0xc0) throw new DnsFormatError('unknown label type');
    if (length === 0) {
      if (end < 0) end = position + 1;
      break;
    }
    if (position + 1 + length > message.length) throw new DnsFormatError('label runs past the end of the message');
    labels.push(Buffer.from(message.subarray(position + 1, position + 1 + length)).toString('latin1'));
    position += 1 + length;
  }
  const name = labels.join('.').toLowerCase();
  if (name.length > 253) throw new DnsFormatError('name longer than 253 characters');
  return { name, end };
}

/** The name's wire form: length-prefixed labels and a zero. */
export function encodeName(name: string): Buffer {
  const labels = name === '' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length === 0 || bytes.length > 63) throw new DnsFormatError(`invalid label "${label}"`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Reads a query: a message with QR clear and exactly one question. */
export function parseQuery(message: Uint8Array): Query {
  if (message.length < HEADER_LENGTH) throw new DnsFormatError('shorter than a header');
  const view = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const id = view.readUInt16BE(0);
  const flags = view.readUInt16BE(2);
  if (flags & FLAG_QR) throw new DnsFormatError('not a query');
  if (view.readUInt16BE(4) !== 1) throw new DnsFormatError('not exactly one question');
  const { name, end } = readName(message, HEADER_LENGTH);
  if (end + 4 > message.length) throw new DnsFormatError('truncated question');
  return { id, flags, question: { name, type: view.readUInt16BE(end), class: view.readUInt16BE(end + 2) }, questionEnd: end + 4 };
}

/** An answer record: A holds an IPv4 address, AAAA an IPv6 one, PTR a name. */
export type Answer =
  | { type: typeof TYPE_A; address: string; ttl: number }
  | { type: typeof TYPE_AAAA; address: string; ttl: number }
  | { type: typeof TYPE_PTR; target: string; ttl: number };

function recordData(answer: Answer): Buffer {
  switch (answer.type) {
    case TYPE_A:
      return Buffer.from(answer.address.split('.').map(Number));
    case TYPE_AAAA: {
      const value = parseIpv6(answer.address) ?? 0n;
      const data = Buffer.alloc(16);
      data.writeBigUInt64BE(value >> 64n, 0);
      data.writeBigUInt64BE(value & 0xffffffffffffffffn, 8);
      return data;
    }
    case TYPE_PTR:
      return encodeName(answer.target);
  }
}

/**
 * The response to `query`: its id and question, QR, AA and RA set, RD and the opcode as asked, `rcode`, and the
 * answers, each owned by the question's name (a pointer to offset 12).
 */
export function encodeResponse(query: Uint8Array, parsed: Pick<Query, 'flags' | 'questionEnd'>, rcode: number, answers: readonly Answer[]): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  Buffer.from(query.buffer, query.byteOffset, 2).copy(header, 0);
  header.writeUInt16BE(FLAG_QR | (parsed.flags & (OPCODE_MASK | FLAG_RD)) | FLAG_AA | FLAG_RA | (rcode & 0xf), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const question = Buffer.from(query.subarray(HEADER_LENGTH, parsed.questionEnd));
  const records = answers.map((answer) => {
    const data = recordData(answer);
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc000 | HEADER_LENGTH, 0);
    fixed.writeUInt16BE(answer.type, 2);
    fixed.writeUInt16BE(CLASS_IN, 4);
    fixed.writeUInt32BE(answer.ttl, 6);
    fixed.writeUInt16BE(data.length, 10);
    return Buffer.concat([fixed, data]);
  });
  return Buffer.concat([header, question, ...records]);
}

/** A query for `name` (tests and the bench build theirs with it). */
export function encodeQuery(id: number, name: string, type: number): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(FLAG_RD, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

/** A response's id, rcode and the A, AAAA and PTR answers it holds (other records are skipped). */
export function parseResponse(message: Uint8Array): { id: number; rcode: number; answers: Answer[] } {
  if (message.length < HEADER_LENGTH) throw new DnsFormatError('shorter than a header');
  const view = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  let position = HEADER_LENGTH;
  for (let i = view.readUInt16BE(4); i > 0; i--) position = readName(message, position).end + 4;
  const answers: Answer[] = [];
  for (let i = view.readUInt16BE(6); i > 0; i--) {
    position = readName(message, position).end;
    if (position + 10 > message.length) throw new DnsFormatError('truncated record');
    const type = view.readUInt16BE(position);
    const ttl = view.readUInt32BE(position + 4);
    const length = view.readUInt16BE(position + 8);
    const data = position + 10;
    if (data + length > message.length) throw new DnsFormatError('truncated record data');
    if (type === TYPE_A && length === 4) answers.push({ type, ttl, address: [...message.subarray(data, data + 4)].join('.') });
    if (type === TYPE_AAAA && length === 16) {
      const bytes = Buffer.from(message.subarray(data, data + 16));
      answers.push({ type, ttl, address: formatIpv6((bytes.readBigUInt64BE(0) << 64n) | bytes.readBigUInt64BE(8)) });
    }
    if (type === TYPE_PTR) answers.push({ type, ttl, target: readName(message, data).name });
    position = data + length;
  }
  return { id: view.readUInt16BE(0), rcode: view.readUInt16BE(2) & 0xf, answers };
}

/** "4.3.2.1.in-addr.arpa" → "1.2.3.4"; null for any other name. */
export function reverseAddress(name: string): string | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  return match === null ? null : [match[4], match[3], match[2], match[1]].join('.');
}
