/**
 * A complete plain dump (it has pg_dump's trailer, so it passes validation) whose restore fails at
 * the data of table public.broken: for what a failed restore shows.
 */
export const BROKEN_PLAIN_DUMP = [
  '--',
  '-- Name: broken; Type: TABLE; Schema: public; Owner: -',
  '--',
  'CREATE TABLE public.broken (id integer);',
  '--',
  '-- Data for Name: broken; Type: TABLE DATA; Schema: public; Owner: -',
  '--',
  "INSERT INTO public.broken VALUES ('not a number');",
  '--',
  '-- PostgreSQL database dump complete',
  '--',
  '',
].join('\n');
