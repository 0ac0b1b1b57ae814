import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'expired' | 'invalid';

/** `<expires ms>.<HMAC-SHA256 base64url>`; anything looser (extra parts, signs, leading zeros) is a forgery. */
const SIGNATURE = /^(0|[1-9]\d{0,14})\.([A-Za-z0-9_-]{43})$/;

/** Short-lived download links: HMAC over the backup id and the expiry. */
export class UrlSigner {
  constructor(private readonly secret: Buffer) {}

  sign(backupId: string, expiresAtMs: number): string {
    return `${expiresAtMs}.${this.mac(backupId, expiresAtMs)}`;
  }

  /** 'expired' only for an authentic link, so a forgery learns nothing from the answer. */
  verify(backupId: string, signature: string, nowMs: number): SignatureCheck {
    const match = SIGNATURE.exec(signature);
    if (!match) return 'invalid';
    const expiresAt = Number(match[1]);
    const expected = Buffer.from(this.mac(backupId, expiresAt));
    if (!timingSafeEqual(expected, Buffer.from(match[2]!))) return 'invalid';
    return expiresAt < nowMs ? 'expired' : 'valid';
  }

  private mac(backupId: string, expiresAt: number): string {
    return createHmac('sha256', this.secret).update(`${backupId}:${expiresAt}`).digest('base64url');
  }
}
