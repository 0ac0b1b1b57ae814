import { stat } from 'node:fs/promises';

/** What changes when a file is replaced (a package upgrade) or removed: inode, mtime, size. */
export type ToolStamp = (path: string) => Promise<string>;

export const fileToolStamp: ToolStamp = async (path) => {
  try {
    const info = await stat(path);
    return `${info.ino}:${info.mtimeMs}:${info.size}`;
  } catch {
    return 'missing';
  }
};
