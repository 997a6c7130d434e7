// decodingStrategy, with Go encoding/base64 strictness: StdEncoding / URLEncoding (padded) reject
// bad characters and bad padding, but skip '\r' and '\n'. Buffer.from(s, 'base64') is lenient and
// would silently turn garbage into bytes, so validity is checked first.

export type DecodingStrategy = 'None' | 'Base64' | 'Base64URL' | 'Auto';

const STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/;

function strictDecode(bytes: Uint8Array, url: boolean): Uint8Array | undefined {
  const text = Buffer.from(bytes).toString('latin1').replace(/[\r\n]/g, '');
  if (!(url ? URL : STD).test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, url ? 'base64url' : 'base64'));
}

/** Decodes a value; undefined when Base64/Base64URL is asked for and the value is not valid. */
export function decodeValue(strategy: DecodingStrategy | undefined, bytes: Uint8Array): Uint8Array | undefined {
  switch (strategy ?? 'None') {
    case 'None':
      return bytes;
    case 'Base64':
      return strictDecode(bytes, false);
    case 'Base64URL':
      return strictDecode(bytes, true);
    case 'Auto':
      return strictDecode(bytes, false) ?? strictDecode(bytes, true) ?? bytes;
    default:
      return undefined;
  }
}
