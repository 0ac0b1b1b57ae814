import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';
import type { App } from '../app.js';
import { authenticate } from './request-auth.js';
import { graphiqlCsp } from './security-headers.js';

/** Preloaded tabs (instead of the generic welcome text): a tour of a backup that runs as it is. */
export const GRAPHIQL_EXAMPLES = {
  listBackups: `# The newest backups first, with what the catalog knows of each.
query ListBackups {
  backups(limit: 10) {
    total
    items { id fileName description format sizeBytes createdAt verifyStatus }
  }
}`,
  createBackup: `# Starts a backup job and answers at once: copy data.id into the next tab to follow it.
mutation CreateBackup {
  createBackup(description: "from GraphiQL") {
    __typename
    ... on MutationCreateBackupSuccess { data { id state } }
    ... on CodedError { code message }
  }
}`,
  followJob: `# Live progress of a job until it ends (paste the job id from "Create a backup" into Variables).
subscription FollowJob($jobId: ID!) {
  jobProgress(jobId: $jobId) {
    state
    errorCode
    progress { percent phase currentTable etaSeconds }
  }
}`,
  followJobVariables: '{ "jobId": "paste the job id here" }',
};

// Yoga hands options it does not know to the GraphiQL component: its dark theme, whatever the browser prefers.
const GRAPHIQL_PROPS = { forcedTheme: 'dark', defaultTheme: 'dark' };

export const GRAPHIQL_OPTIONS: GraphiQLOptions = {
  title: 'pgbs — PostgreSQL backup &amp; restore',
  // No Yoga logo: the title names the product.
  logo: '',
  credentials: 'same-origin',
  ...GRAPHIQL_PROPS,
  defaultTabs: [
    { query: GRAPHIQL_EXAMPLES.listBackups },
    { query: GRAPHIQL_EXAMPLES.createBackup },
    { query: GRAPHIQL_EXAMPLES.followJob, variables: GRAPHIQL_EXAMPLES.followJobVariables },
  ],
};

/**
 * GraphiQL's dark theme in the panel's palette (packages/web/src/styles/theme.css), as HSL
 * components, GraphiQL's format: base #1e1e1e, text #cccccc, accent #007acc, and the panel's
 * success, warning and error colours. Same selectors as GraphiQL's own, later, so these win.
 */
const PANEL_THEME = `<style>
  body.graphiql-dark .graphiql-container, body.graphiql-dark .graphiql-dialog,
  body.graphiql-dark .graphiql-dialog-overlay, body.graphiql-dark .graphiql-tooltip,
  body.graphiql-dark [data-radix-popper-content-wrapper] {
    --color-base: 0, 0%, 12%;
    --color-neutral: 0, 0%, 80%;
    --color-primary: 204, 100%, 40%;
    --color-secondary: 204, 100%, 60%;
    --color-success: 116, 46%, 67%;
    --color-warning: 49, 100%, 40%;
    --color-error: 11, 85%, 70%;
  }
  body { background: #1e1e1e; }
</style>
`;

/**
 * Bundled GraphiQL (the default page loads its assets from a CDN, which air-gapped servers can't
 * reach), rendered once: its CSP allows exactly this page's inline script, by hash.
 */
export const GRAPHIQL_HTML = renderGraphiQL(GRAPHIQL_OPTIONS).replace('</head>', `${PANEL_THEME}</head>`);
export const GRAPHIQL_CSP = graphiqlCsp(GRAPHIQL_HTML);

/** Yoga's own test for serving GraphiQL on its endpoint: a browser GET asking for HTML. */
export function isGraphiQLRequest(req: IncomingMessage): boolean {
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
}

/**
 * GraphiQL is for signed-in admins (unless PUBLIC_INTROSPECTION): anybody else is sent to the panel's
 * login, which comes back here. Returns true when it answered the request.
 */
export async function refuseGraphiQL(app: App, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (app.config.http.publicIntrospection) return false;
  const { viewer } = await authenticate(app, { authorization: req.headers.authorization, cookie: req.headers.cookie });
  if (viewer?.role === 'admin') return false;
  if (viewer) {
    res
      .writeHead(403, { 'content-type': 'text/plain; charset=utf-8' })
      .end('auth/forbidden: GraphiQL is for administrators.\n');
  } else {
    // req.url is this server's own /graphql path: a same-origin return address, never another site.
    res.writeHead(302, { location: `/login?redirect=${encodeURIComponent(req.url ?? '/graphql')}` }).end();
  }
  return true;
}
