/** Hands a URL to the browser (a download link answers with Content-Disposition: attachment, so the page stays). */
export function startDownload(url: string): void {
  window.location.assign(url);
}
