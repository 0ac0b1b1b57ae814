import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import JobCard from '@/features/backups/JobCard.vue';
import JobProgressView from '@/features/backups/JobProgressView.vue';
import { formatDuration, formatPercent } from '@/format/format';
import { fakeClient } from './support/fake-client';
import { job } from './fixtures';

describe('progress formatting', () => {
  it('formats the time left', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(0.4)).toBe('less than a second');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(185)).toBe('3 min 05 s');
    expect(formatDuration(7_620)).toBe('2 h 07 min');
  });

  it('rounds the percentage down, so 100 % means done', () => {
    expect(formatPercent(99.9)).toBe('99 %');
    expect(formatPercent(100)).toBe('100 %');
    expect(formatPercent(-1)).toBe('0 %');
  });
});

describe('JobProgressView', () => {
  it('shows percent, phase, current table and time left of a running job', () => {
    const wrapper = mount(JobProgressView, { props: { job: job() } });
    expect(wrapper.find('[data-test="percent"]').text()).toBe('42 %');
    expect(wrapper.find('[data-test="phase"]').text()).toBe('Copying data');
    expect(wrapper.find('[data-test="table"]').text()).toBe('public.time_entries');
    expect(wrapper.find('[data-test="eta"]').text()).toBe('3 min 05 s');
    expect(wrapper.text()).toContain('3 / 7');
    const bar = wrapper.find('[role="progressbar"]');
    expect(bar.attributes('aria-valuenow')).toBe('42');
    expect(bar.attributes('aria-valuetext')).toBe('42 %, Copying data');
  });

  it('shows an indeterminate bar before the first progress report', () => {
    const wrapper = mount(JobProgressView, { props: { job: job({ state: 'queued', progress: null }) } });
    expect(wrapper.find('[role="progressbar"]').attributes('aria-valuenow')).toBeUndefined();
    expect(wrapper.text()).toContain('Waiting to start');
  });

  it('starts a backup with a whole-track indeterminate bar, not a part-filled one labelled 0 %', () => {
    const first = job({ progress: { ...job().progress!, percent: 0, phase: 'starting', tablesDone: 0 } });
    const wrapper = mount(JobProgressView, { props: { job: first } });
    const bar = wrapper.find('[role="progressbar"]');
    expect(bar.attributes('aria-valuenow')).toBeUndefined();
    expect(bar.find('.fill').classes()).toContain('indeterminate');
    expect(bar.find('.fill').attributes('style')).toBeUndefined();
    expect(wrapper.find('[data-test="percent"]').exists()).toBe(false);
    expect(wrapper.find('[data-test="waiting"]').text()).toBe('Starting…');
  });

  it('says what a running verification does instead of "Waiting to start"', () => {
    const wrapper = mount(JobProgressView, { props: { job: job({ kind: 'verify', progress: null }) } });
    expect(wrapper.find('[data-test="waiting"]').text()).toBe('Reading the file and checking its checksum…');
    expect(wrapper.text()).not.toContain('Waiting to start');
  });

  it('says why a restore failed: the code in words, the entry it was running and the server’s message', () => {
    const failed = job({
      kind: 'restore',
      state: 'failed',
      errorCode: 'restore/failed',
      errorEntry: 'Data for Name: people; Type: TABLE DATA; Schema: public',
      errorMessage: 'psql failed: ERROR: invalid input syntax for type integer: "x"',
    });
    const wrapper = mount(JobProgressView, { props: { job: failed } });
    const alert = wrapper.find('[role="alert"]');
    expect(alert.text()).toContain('The restore failed and was rolled back');
    expect(wrapper.find('[data-test="failed-entry"]').text()).toContain('the data of table public.people');
    expect(wrapper.find('[data-test="server-message"]').text()).toBe(failed.errorMessage);
    expect(wrapper.find('[role="progressbar"]').exists()).toBe(false);
  });

  it('names a failed entry that is not table data by its type', () => {
    const failed = job({
      kind: 'restore',
      state: 'failed',
      errorCode: 'restore/missing-role',
      errorEntry: 'Name: people_pkey; Type: CONSTRAINT; Schema: public',
    });
    const wrapper = mount(JobProgressView, { props: { job: failed } });
    expect(wrapper.find('[role="alert"]').text()).toContain('roles that do not exist');
    expect(wrapper.find('[data-test="failed-entry"]').text()).toContain('constraint public.people_pkey');
    expect(wrapper.find('[data-test="server-message"]').exists()).toBe(false);
  });
});

describe('JobCard', () => {
  it('follows the jobProgress subscription while the job runs', async () => {
    const live = job({ progress: { ...job().progress!, percent: 87.5, phase: 'post-data', etaSeconds: 4 } });
    const fake = fakeClient({ JobProgress: () => ({ data: { jobProgress: live } }) });
    const wrapper = mount(JobCard, { props: { job: job() }, global: fake.global });
    await flushPromises();
    expect(fake.client.executeSubscription.mock.calls[0]![0].variables).toEqual({ jobId: 'j1' });
    expect(wrapper.find('[data-test="percent"]').text()).toBe('87 %');
    expect(wrapper.find('[data-test="phase"]').text()).toBe('Building indexes and constraints');
    expect(wrapper.find('[data-test="eta"]').text()).toBe('4 s');
  });

  it('does not subscribe to a finished job', async () => {
    const fake = fakeClient({});
    mount(JobCard, { props: { job: job({ state: 'succeeded' }) }, global: fake.global });
    await flushPromises();
    expect(fake.client.executeSubscription).not.toHaveBeenCalled();
  });
});
