/**
 * The identities in a key file's text, one a line; only they are sent, not its comments. A whole
 * file pasted into a one-line field arrives without its line breaks: the identities still stand out.
 */
export const identitiesIn = (text: string): string[] => text.match(/AGE-SECRET-KEY-1[0-9A-Z]+/g) ?? [];
