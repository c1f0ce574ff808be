// Decoding the attention job's base64 payloads.
export function base64Bytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function base64Float32(b64: string): Float32Array {
  const b = base64Bytes(b64);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}
