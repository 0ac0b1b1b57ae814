/** The file name of a key's identity: what `age -d -i <file>` is given. */
export function identityFileName(keyName: string): string {
  return `${keyName}.age-key.txt`;
}

/** The identity as an age key file: "#" lines are comments to age, the last line is the secret. */
export function identityFileText(key: { name: string; recipient: string }, identity: string): string {
  return `# pgbs key ${key.name}\n# public key: ${key.recipient}\n${identity}\n`;
}

/** Long enough for the browser to start reading the file; the URL goes then. */
const REVOKE_AFTER_MS = 1000;

/**
 * Saves text as a file made in the browser (a Blob behind an object URL): the identity goes to
 * the user's disk and nowhere else, not back to the server nor into any address.
 */
export function saveTextFile(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}
