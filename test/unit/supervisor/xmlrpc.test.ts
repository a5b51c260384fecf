// XML-RPC codec against the requests and responses supervisord 4.2.5 was seen to exchange (reference §6).

import { describe, expect, it } from 'vitest';
import { XmlRpcFault, XmlRpcTransportError } from '../../../src/errors.js';
import { decodeResponse, encodeCall, escapeXml, type XmlRpcValue } from '../../../src/supervisor/xmlrpc.js';

// Builders in the layout Python's xmlrpc.client (supervisord's encoder) writes: a newline after most tags.
const response = (value: string): string =>
  `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n${value}\n</param>\n</params>\n</methodResponse>\n`;
const str = (s: string): string => `<value><string>${escapeXml(s)}</string></value>`;
const int = (n: number): string => `<value><int>${n}</int></value>`;
const member = (name: string, value: string): string => `<member>\n<name>${name}</name>\n${value}\n</member>\n`;
const struct = (members: Record<string, string>): string =>
  `<value><struct>\n${Object.entries(members).map(([k, v]) => member(k, v)).join('')}</struct></value>`;
const array = (values: string[]): string => `<value><array><data>\n${values.map((v) => `${v}\n`).join('')}</data></array></value>`;
const fault = (code: number, text: string): string =>
  `<?xml version='1.0'?>\n<methodResponse>\n<fault>\n${struct({ faultCode: int(code), faultString: str(text) })}\n</fault>\n</methodResponse>\n`;

// getProcessInfo("sleeper"), field for field as observed.
const SLEEPER_FIELDS = {
  name: str('sleeper'),
  group: str('sleeper'),
  start: int(1795470291),
  stop: int(1795470276),
  now: int(1795470454),
  state: int(20),
  statename: str('RUNNING'),
  spawnerr: str(''),
  exitstatus: int(0),
  logfile: str('/rig/log/sleeper-stdout---supervisor-lvoh6bx1.log'),
  stdout_logfile: str('/rig/log/sleeper-stdout---supervisor-lvoh6bx1.log'),
  stderr_logfile: str('/rig/log/sleeper-stderr---supervisor-s90s4tiu.log'),
  pid: int(16738),
  description: str('pid 16738, uptime 0:02:43'),
};
const SLEEPER: XmlRpcValue = {
  name: 'sleeper',
  group: 'sleeper',
  start: 1795470291,
  stop: 1795470276,
  now: 1795470454,
  state: 20,
  statename: 'RUNNING',
  spawnerr: '',
  exitstatus: 0,
  logfile: '/rig/log/sleeper-stdout---supervisor-lvoh6bx1.log',
  stdout_logfile: '/rig/log/sleeper-stdout---supervisor-lvoh6bx1.log',
  stderr_logfile: '/rig/log/sleeper-stderr---supervisor-s90s4tiu.log',
  pid: 16738,
  description: 'pid 16738, uptime 0:02:43',
};

describe('encodeCall', () => {
  it('writes stopProcess exactly as curl sent it to supervisord', () => {
    expect(encodeCall('supervisor.stopProcess', ['svc', true])).toBe(
      '<?xml version="1.0"?>\n<methodCall><methodName>supervisor.stopProcess</methodName><params>' +
        '<param><value><string>svc</string></value></param><param><value><boolean>1</boolean></value></param>' +
        '</params></methodCall>',
    );
  });

  it('encodes no params and false', () => {
    expect(encodeCall('supervisor.getAllProcessInfo', [])).toBe(
      '<?xml version="1.0"?>\n<methodCall><methodName>supervisor.getAllProcessInfo</methodName><params></params></methodCall>',
    );
    expect(encodeCall('m', [false])).toContain('<param><value><boolean>0</boolean></value></param>');
  });

  it('escapes the five XML special characters', () => {
    expect(encodeCall('m', [`a&b<c>d"e'f`])).toContain('<string>a&amp;b&lt;c&gt;d&quot;e&apos;f</string>');
  });

  it('round-trips through the decoder, including non-ASCII and specials', () => {
    const values = ['café:☕ 𝄞', `<&>"'`, '', true, false];
    for (const v of values) {
      const call = encodeCall('m', [v]);
      const asResponse = call
        .replace(/^<\?xml[^>]*>\n<methodCall><methodName>m<\/methodName>/, '<methodResponse>')
        .replace(/<\/methodCall>$/, '</methodResponse>');
      expect(decodeResponse(asResponse)).toEqual(v);
    }
  });
});

describe('decodeResponse', () => {
  it('decodes the stopProcess answer verbatim from supervisord', () => {
    const verbatim =
      "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n</params>\n</methodResponse>\n";
    expect(Buffer.byteLength(verbatim)).toBe(129); // the Content-Length supervisord sent
    expect(decodeResponse(verbatim)).toBe(true);
    expect(decodeResponse(response('<value><boolean>0</boolean></value>'))).toBe(false);
  });

  it('decodes the getProcessInfo struct', () => {
    expect(decodeResponse(response(struct(SLEEPER_FIELDS)))).toEqual(SLEEPER);
  });

  it('decodes getAllProcessInfo: an array of structs', () => {
    const stopped = { ...SLEEPER_FIELDS, name: str('web1'), group: str('web'), state: int(0), pid: int(0), exitstatus: int(-1) };
    const v = decodeResponse(response(array([struct(SLEEPER_FIELDS), struct(stopped)])));
    expect(v).toEqual([SLEEPER, { ...(SLEEPER as object), name: 'web1', group: 'web', state: 0, pid: 0, exitstatus: -1 }]);
  });

  it('decodes nested arrays and structs, and empty ones', () => {
    expect(decodeResponse(response(array([array([int(1)]), struct({ a: array([]) }), struct({})])))).toEqual([[1], { a: [] }, {}]);
  });

  it('decodes an empty array (startProcess("app:*") with all running)', () => {
    expect(decodeResponse(response('<value><array><data>\n</data></array></value>'))).toEqual([]);
    expect(decodeResponse(response('<value><array><data/></array></value>'))).toEqual([]);
  });

  it('decodes a struct member named __proto__ as a plain key, without touching any prototype', () => {
    // Built from pairs: `{ __proto__: … }` in an object literal would set a prototype, not a key.
    const members = [member('__proto__', struct({ polluted: str('yes') })), member('constructor', str('c')), member('name', str('x'))];
    const v = decodeResponse(response(`<value><struct>\n${members.join('')}</struct></value>`));
    expect(Object.getPrototypeOf(v)).toBeNull();
    const record = v as Record<string, unknown>;
    expect(Object.keys(record)).toEqual(['__proto__', 'constructor', 'name']);
    expect(Object.hasOwn(record, '__proto__')).toBe(true);
    expect(record['__proto__']).toEqual({ polluted: 'yes' });
    expect(record['constructor']).toBe('c');
    expect((record as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('decodes i4, double, a bare <value> as string, and empty strings', () => {
    expect(decodeResponse(response('<value><i4>5086</i4></value>'))).toBe(5086);
    expect(decodeResponse(response('<value><double>-0.25</double></value>'))).toBe(-0.25);
    expect(decodeResponse(response('<value>4.2.5</value>'))).toBe('4.2.5');
    expect(decodeResponse(response('<value></value>'))).toBe('');
    expect(decodeResponse(response('<value><string/></value>'))).toBe('');
    expect(decodeResponse(response('<value><string></string></value>'))).toBe('');
  });

  it('decodes named and numeric entities, and keeps non-ASCII text', () => {
    expect(decodeResponse(response('<value><string>a&amp;b&lt;c&gt;d&quot;e&apos;f</string></value>'))).toBe(`a&b<c>d"e'f`);
    expect(decodeResponse(response('<value><string>caf&#233; &#x2615; &#119070;</string></value>'))).toBe('café ☕ 𝄞');
    expect(decodeResponse(response(str('café')))).toBe('café');
    expect(decodeResponse(response(struct({ name: str('café'), group: str('café') })))).toEqual({ name: 'café', group: 'café' });
  });

  it('throws XmlRpcFault for the verbatim BAD_NAME fault', () => {
    const verbatim =
      '<methodResponse><fault><value><struct>\n' +
      '<member><name>faultCode</name><value><int>10</int></value></member>\n' +
      '<member><name>faultString</name><value><string>BAD_NAME: nosuch</string></value></member>\n' +
      '</struct></value></fault></methodResponse>';
    let caught: unknown;
    try {
      decodeResponse(verbatim);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(XmlRpcFault);
    expect(caught).toMatchObject({ faultCode: 10, faultString: 'BAD_NAME: nosuch', code: 'XMLRPC_FAULT' });
  });

  it('throws XmlRpcFault for other faults in xmlrpc.client layout', () => {
    expect(() => decodeResponse(fault(70, 'NOT_RUNNING: sleeper'))).toThrow(
      expect.objectContaining({ faultCode: 70, faultString: 'NOT_RUNNING: sleeper' }),
    );
    expect(() => decodeResponse(fault(60, 'ALREADY_STARTED: web:web1'))).toThrow(XmlRpcFault);
  });

  it('rejects a body cut short (the non-ASCII Content-Length bug drops the final ">")', () => {
    const whole = response(array([struct({ name: str('café'), group: str('café'), status: int(80), description: str('OK') })]));
    expect(() => decodeResponse(whole.trimEnd().slice(0, -1))).toThrow(XmlRpcTransportError);
    for (let cut = 0; cut < whole.trimEnd().length; cut += 7) {
      expect(() => decodeResponse(whole.slice(0, cut))).toThrow(XmlRpcTransportError);
    }
  });

  it.each([
    ['not XML at all', 'HTTP/1.1 400 Bad Request'],
    ['an HTML error page', '<html><head><title>Error response</title></head><body>400</body></html>'],
    ['mismatched tags', '<methodResponse><params><param><value><int>1</string></value></param></params></methodResponse>'],
    ['two params', response(`${int(1)}\n</param>\n<param>\n${int(2)}`)],
    ['a bad int', response('<value><int>12a</int></value>')],
    ['a bad boolean', response('<value><boolean>true</boolean></value>')],
    ['an unknown type', response('<value><base64>AAAA</base64></value>')],
    ['an unknown entity', response('<value><string>&nbsp;</string></value>')],
    ['a bare ampersand', response('<value><string>a & b</string></value>')],
    ['a fault that is not a struct', '<methodResponse><fault><value><int>1</int></value></fault></methodResponse>'],
    ['a member without a value', response('<value><struct><member><name>a</name></member></struct></value>')],
    ['an empty document', ''],
  ])('throws XmlRpcTransportError for %s', (_why, xml) => {
    expect(() => decodeResponse(xml)).toThrow(XmlRpcTransportError);
  });
});
