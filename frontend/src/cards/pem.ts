// Certificates download as PEM files named after the card and the slot, so a user who
// downloads all of them gets distinct, recognisable names.

export interface PemCertificate {
  slot: string;
  template: string;
  serial: string;
  pem: string;
}

/** safePart keeps a file-name part to letters, digits, dot, dash and underscore. */
function safePart(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'unknown';
}

/** pemFileName is e.g. "vscard-VC1234-9A-authentication.pem". */
export function pemFileName(cardSerial: string, cert: Pick<PemCertificate, 'slot' | 'template'>): string {
  return `vscard-${safePart(cardSerial)}-${safePart(cert.slot.toUpperCase())}-${safePart(cert.template.toLowerCase())}.pem`;
}

/** pemBlob is the file's content; PEM always ends in a newline. */
export function pemBlob(pem: string): Blob {
  const text = pem.endsWith('\n') ? pem : `${pem}\n`;
  return new Blob([text], { type: 'application/x-pem-file' });
}

/** downloadPem saves the PEM through a temporary object URL; nothing leaves the browser. */
export function downloadPem(fileName: string, pem: string): void {
  const url = URL.createObjectURL(pemBlob(pem));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Let the browser start the download before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
