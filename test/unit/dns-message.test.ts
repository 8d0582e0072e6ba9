import { describe, expect, it } from 'vitest';
import {
  DnsFormatError,
  encodeName,
  encodeQuery,
  encodeResponse,
  parseQuery,
  parseResponse,
  RCODE_NOERROR,
  RCODE_NXDOMAIN,
  readName,
  reverseAddress,
  TYPE_A,
  TYPE_AAAA,
  TYPE_PTR,
} from '../../src/network/dns/message.js';
import { buildZone, lookup, nameservers } from '../../src/network/dns/zone.js';

describe('DNS names', () => {
  it('encodes labels and reads them back, lower-cased', () => {
    expect([...encodeName('Web.example')]).toEqual([3, 87, 101, 98, 7, 101, 120, 97, 109, 112, 108, 101, 0]);
    expect(readName(encodeName('Web.Example.'), 0)).toEqual({ name: 'web.example', end: 13 });
    expect(readName(encodeName(''), 0)).toEqual({ name: '', end: 1 });
  });

  it('follows a compression pointer and ends after it', () => {
    // "db" then a pointer to "example" at offset 0
    const message = Buffer.concat([encodeName('example'), Buffer.from([2, 100, 98, 0xc0, 0])]);
    expect(readName(message, 9)).toEqual({ name: 'db.example', end: 14 });
  });

  it('refuses pointer loops, truncation and labels of the reserved types', () => {
    expect(() => readName(Buffer.from([0xc0, 0]), 0)).toThrow(DnsFormatError);
    expect(() => readName(Buffer.from([5, 97, 98]), 0)).toThrow(/past the end/);
    expect(() => readName(Buffer.from([3, 97]), 0)).toThrow(DnsFormatError);
    expect(() => readName(Buffer.from([0x40, 0]), 0)).toThrow(/unknown label type/);
    expect(() => encodeName('a'.repeat(64))).toThrow(/invalid label/);
  });
});

describe('DNS queries and responses', () => {
  it('parses a query built as a stub resolver sends it', () => {
    const query = parseQuery(encodeQuery(0x1234, 'Web', TYPE_A));
    expect(query).toMatchObject({ id: 0x1234, question: { name: 'web', type: TYPE_A, class: 1 }, questionEnd: 12 + 5 + 4 });
    expect(query.flags & 0x0100).toBe(0x0100);
  });

  it('refuses what is not a single-question query', () => {
    expect(() => parseQuery(Buffer.alloc(5))).toThrow(/shorter than a header/);
    const response = encodeQuery(1, 'web', TYPE_A);
    response.writeUInt16BE(0x8000, 2);
    expect(() => parseQuery(response)).toThrow(/not a query/);
    const two = encodeQuery(1, 'web', TYPE_A);
    two.writeUInt16BE(2, 4);
    expect(() => parseQuery(two)).toThrow(/not exactly one question/);
    expect(() => parseQuery(encodeQuery(1, 'web', TYPE_A).subarray(0, 18))).toThrow(/truncated question/);
  });

  it('answers with the id, question, flags and records, which a client reads back', () => {
    const bytes = encodeQuery(0xbeef, 'web', TYPE_A);
    const query = parseQuery(bytes);
    const answer = encodeResponse(bytes, query, RCODE_NOERROR, [
      { type: TYPE_A, address: '10.89.0.2', ttl: 5 },
      { type: TYPE_A, address: '10.89.0.3', ttl: 5 },
    ]);
    expect(answer.readUInt16BE(2)).toBe(0x8000 | 0x0400 | 0x0100 | 0x0080); // QR AA RD RA, NOERROR
    expect(parseResponse(answer)).toEqual({
      id: 0xbeef,
      rcode: RCODE_NOERROR,
      answers: [
        { type: TYPE_A, address: '10.89.0.2', ttl: 5 },
        { type: TYPE_A, address: '10.89.0.3', ttl: 5 },
      ],
    });
    const ptr = encodeQuery(7, '2.0.89.10.in-addr.arpa', TYPE_PTR);
    const reply = encodeResponse(ptr, parseQuery(ptr), RCODE_NOERROR, [{ type: TYPE_PTR, target: 'web', ttl: 5 }]);
    expect(parseResponse(reply).answers).toEqual([{ type: TYPE_PTR, target: 'web', ttl: 5 }]);
    const missing = encodeResponse(bytes, query, RCODE_NXDOMAIN, []);
    expect(parseResponse(missing)).toEqual({ id: 0xbeef, rcode: RCODE_NXDOMAIN, answers: [] });
  });

  it('reads reverse names of IPv4 addresses only', () => {
    expect(reverseAddress('4.3.2.1.in-addr.arpa')).toBe('1.2.3.4');
    expect(reverseAddress('3.2.1.in-addr.arpa')).toBeNull();
    expect(reverseAddress('web')).toBeNull();
  });
});

describe('a network zone', () => {
  const zone = buildZone([
    { id: 'b', address: '10.89.0.3', names: ['api', 'web'], dns: [] },
    { id: 'a', address: '10.89.0.2', names: ['web', 'cafe'], dns: ['192.0.2.53'] },
  ]);

  it('answers A for every container holding a name, PTR for an address, no data for other types', () => {
    expect(lookup(zone, { name: 'web', type: TYPE_A, class: 1 })).toEqual({
      rcode: RCODE_NOERROR,
      answers: [
        { type: TYPE_A, address: '10.89.0.2', ttl: 5 },
        { type: TYPE_A, address: '10.89.0.3', ttl: 5 },
      ],
    });
    expect(lookup(zone, { name: 'web', type: TYPE_AAAA, class: 1 })).toEqual({ rcode: RCODE_NOERROR, answers: [] });
    expect(lookup(zone, { name: '3.0.89.10.in-addr.arpa', type: TYPE_PTR, class: 1 })).toEqual({
      rcode: RCODE_NOERROR,
      answers: [{ type: TYPE_PTR, target: 'api', ttl: 5 }],
    });
  });

  it('forwards every other name, to the asking container’s --dns servers when it has some', () => {
    expect(lookup(zone, { name: 'example.org', type: TYPE_A, class: 1 })).toBe('forward');
    expect(lookup(zone, { name: '9.0.89.10.in-addr.arpa', type: TYPE_PTR, class: 1 })).toBe('forward');
    expect(zone.upstreams.get('10.89.0.2')).toEqual(['192.0.2.53']);
    expect(zone.upstreams.get('10.89.0.3')).toBeUndefined();
  });

  it('reads the nameservers of a resolv.conf', () => {
    expect(nameservers('# x\nnameserver 127.0.0.53\nsearch a b\n  nameserver 192.0.2.1 \nnameserver ::1\n')).toEqual(['127.0.0.53', '192.0.2.1']);
  });
});
