import { createHmac, timingSafeEqual } from 'node:crypto';

/** Short-lived download links: HMAC over the backup id and the expiry. */
export class UrlSigner {
  constructor(private readonly secret: Buffer) {}

  sign(backupId: string, expiresAtMs: number): string {
    return `${expiresAtMs}.${this.mac(backupId, expiresAtMs)}`;
  }

  verify(backupId: string, signature: string, nowMs: number): boolean {
    const [expires, mac] = signature.split('.');
    const expiresAt = Number(expires);
    if (!mac || !Number.isInteger(expiresAt) || expiresAt < nowMs) return false;
    const expected = Buffer.from(this.mac(backupId, expiresAt));
    const actual = Buffer.from(mac);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  private mac(backupId: string, expiresAt: number): string {
    return createHmac('sha256', this.secret).update(`${backupId}:${expiresAt}`).digest('base64url');
  }
}
