import { describe, expect, it } from 'vitest';

import { pemBlob, pemFileName } from './pem';

describe('pemFileName', () => {
  it.each([
    ['VC-01', { slot: '9a', template: 'AUTHENTICATION' }, 'vscard-VC-01-9A-authentication.pem'],
    ['VC 01/../x', { slot: '9C', template: 'SIGNATURE' }, 'vscard-VC-01-..-x-9C-signature.pem'],
    ['', { slot: '9D', template: 'ENCRYPTION' }, 'vscard-unknown-9D-encryption.pem'],
  ])('ok/%s', (serial, cert, want) => {
    expect(pemFileName(serial, cert)).toBe(want);
  });

  it('ok/never contains a path separator', () => {
    expect(pemFileName('a/b\\c', { slot: '9A', template: 'x/y' })).not.toMatch(/[/\\]/);
  });
});

describe('pemBlob', () => {
  it('ok/ends with exactly one newline', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    expect(await pemBlob(pem).text()).toBe(`${pem}\n`);
    expect(await pemBlob(`${pem}\n`).text()).toBe(`${pem}\n`);
    expect(pemBlob(pem).type).toBe('application/x-pem-file');
  });
});
