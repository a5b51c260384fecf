// XML-RPC codec for supervisord's API: encodes method calls, decodes responses and faults. No I/O.

import { XmlRpcFault, XmlRpcTransportError } from '../errors.js';

export type XmlRpcValue = string | number | boolean | XmlRpcValue[] | { [k: string]: XmlRpcValue };

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** What the listener and its commands send: namespecs, and startProcess / stopProcess's wait flag. */
export type XmlRpcParam = string | boolean;

/** The request body of one call, in the shape supervisorctl (Python xmlrpc.client) sends. */
export function encodeCall(method: string, params: readonly XmlRpcParam[]): string {
  const ps = params
    .map((p) => `<param><value>${typeof p === 'string' ? `<string>${escapeXml(p)}</string>` : `<boolean>${p ? 1 : 0}</boolean>`}</value></param>`)
    .join('');
  return `<?xml version="1.0"?>\n<methodCall><methodName>${escapeXml(method)}</methodName><params>${ps}</params></methodCall>`;
}

// ---- a small XML reader: elements and text only, enough for Python's xmlrpc.client output ----

interface XmlElement {
  readonly name: string;
  readonly children: (XmlElement | string)[];
}

const malformed = (why: string): XmlRpcTransportError =>
  new XmlRpcTransportError(`malformed XML-RPC response: ${why}`);

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw malformed(`bare '&' in text`);
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (code > 0x10ffff) throw malformed(`bad character reference ${whole}`);
      return String.fromCodePoint(code);
    }
    const c = NAMED_ENTITIES[ref];
    if (c === undefined) throw malformed(`unknown entity ${whole}`);
    return c;
  });
}

const NAME = /[A-Za-z_][\w.:-]*/y;

function parseXml(xml: string): XmlElement {
  let pos = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;

  const skipPast = (end: string, what: string): void => {
    const i = xml.indexOf(end, pos);
    if (i < 0) throw malformed(`unterminated ${what}`);
    pos = i + end.length;
  };

  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    const textEnd = lt < 0 ? xml.length : lt;
    if (textEnd > pos) {
      const text = xml.slice(pos, textEnd);
      const top = stack[stack.length - 1];
      if (top !== undefined) top.children.push(decodeEntities(text));
      else if (text.trim() !== '') throw malformed('text outside the root element');
      pos = textEnd;
      continue;
    }
    if (xml.startsWith('<?', pos)) skipPast('?>', 'declaration');
    else if (xml.startsWith('<!--', pos)) skipPast('-->', 'comment');
    else if (xml.startsWith('<![CDATA[', pos)) {
      const end = xml.indexOf(']]>', pos);
      if (end < 0) throw malformed('unterminated CDATA');
      const top = stack[stack.length - 1];
      if (top === undefined) throw malformed('CDATA outside the root element');
      top.children.push(xml.slice(pos + 9, end));
      pos = end + 3;
    } else if (xml.startsWith('</', pos)) {
      NAME.lastIndex = pos + 2;
      const m = NAME.exec(xml);
      const open = stack.pop();
      if (m === null || open === undefined || open.name !== m[0]) {
        throw malformed(`unexpected closing tag at offset ${pos}`);
      }
      pos = NAME.lastIndex;
      skipPast('>', `closing tag </${m[0]}`);
    } else {
      NAME.lastIndex = pos + 1;
      const m = NAME.exec(xml);
      if (m === null) throw malformed(`bad tag at offset ${pos}`);
      const gt = xml.indexOf('>', NAME.lastIndex);
      if (gt < 0) throw malformed(`unterminated tag <${m[0]}`);
      // supervisord's tags carry no attributes; anything in between is ignored.
      const selfClosing = xml[gt - 1] === '/';
      const el: XmlElement = { name: m[0], children: [] };
      const parent = stack[stack.length - 1];
      if (parent !== undefined) parent.children.push(el);
      else if (root !== null) throw malformed('more than one root element');
      else root = el;
      if (!selfClosing) stack.push(el);
      pos = gt + 1;
    }
  }
  const open = stack[stack.length - 1];
  if (open !== undefined) throw malformed(`unclosed <${open.name}> (response cut short?)`);
  if (root === null) throw malformed('no root element');
  return root;
}

// ---- mapping the element tree to values ----

const elementsOf = (el: XmlElement): XmlElement[] =>
  el.children.filter((c): c is XmlElement => typeof c !== 'string');

const textOf = (el: XmlElement): string => {
  if (elementsOf(el).length > 0) throw malformed(`<${el.name}> holds elements, expected text`);
  return el.children.join('');
};

function only(el: XmlElement, name: string): XmlElement {
  const kids = elementsOf(el);
  const first = kids[0];
  if (kids.length !== 1 || first === undefined || first.name !== name) {
    throw malformed(`<${el.name}> must hold exactly one <${name}>`);
  }
  return first;
}

function child(el: XmlElement, name: string): XmlElement {
  const found = elementsOf(el).find((c) => c.name === name);
  if (found === undefined) throw malformed(`<${el.name}> without <${name}>`);
  return found;
}

function decodeValue(valueEl: XmlElement): XmlRpcValue {
  const kids = elementsOf(valueEl);
  // A bare <value>text</value> is a string (XML-RPC spec).
  if (kids.length === 0) return textOf(valueEl);
  const typed = kids[0];
  if (kids.length !== 1 || typed === undefined) throw malformed('<value> with more than one element');
  switch (typed.name) {
    case 'string':
      return textOf(typed);
    case 'int':
    case 'i4':
    case 'i8': {
      const t = textOf(typed).trim();
      if (!/^[+-]?\d+$/.test(t)) throw malformed(`bad <${typed.name}> '${t}'`);
      return Number(t);
    }
    case 'double': {
      const t = textOf(typed).trim();
      const n = Number(t);
      if (t === '' || Number.isNaN(n)) throw malformed(`bad <double> '${t}'`);
      return n;
    }
    case 'boolean': {
      const t = textOf(typed).trim();
      if (t !== '0' && t !== '1') throw malformed(`bad <boolean> '${t}'`);
      return t === '1';
    }
    case 'array':
      return elementsOf(only(typed, 'data')).map((v) => {
        if (v.name !== 'value') throw malformed(`<data> holds <${v.name}>`);
        return decodeValue(v);
      });
    case 'struct': {
      // No prototype: a member named __proto__ (or constructor) is just a key, never the object's prototype.
      const out: { [k: string]: XmlRpcValue } = Object.create(null) as { [k: string]: XmlRpcValue };
      for (const member of elementsOf(typed)) {
        if (member.name !== 'member') throw malformed(`<struct> holds <${member.name}>`);
        out[textOf(child(member, 'name'))] = decodeValue(child(member, 'value'));
      }
      return out;
    }
    default:
      throw malformed(`unsupported type <${typed.name}>`);
  }
}

/** The single return value of a methodResponse; a <fault> throws XmlRpcFault, anything unreadable XmlRpcTransportError. */
export function decodeResponse(xml: string): XmlRpcValue {
  const root = parseXml(xml);
  if (root.name !== 'methodResponse') throw malformed(`root element is <${root.name}>`);
  const body = elementsOf(root)[0];
  if (body?.name === 'fault') {
    const fault = decodeValue(only(body, 'value'));
    if (typeof fault !== 'object' || Array.isArray(fault)) throw malformed('<fault> is not a struct');
    const { faultCode, faultString } = fault;
    if (typeof faultCode !== 'number' || typeof faultString !== 'string') {
      throw malformed('<fault> without faultCode/faultString');
    }
    throw new XmlRpcFault(faultCode, faultString);
  }
  if (body?.name !== 'params') throw malformed('<methodResponse> without <params> or <fault>');
  return decodeValue(only(only(body, 'param'), 'value'));
}
