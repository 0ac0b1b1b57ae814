import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import GeneralPage from '@/features/general/GeneralPage.vue';
import { fakeClient } from './support/fake-client';
import { type ConnectionRole, ownerConnection, serverInfo } from './fixtures';

function mountPage(connectionRole: ConnectionRole | null) {
  const fake = fakeClient({ ServerInfo: () => ({ data: { serverInfo: { ...serverInfo, connectionRole } } }) });
  return mount(GeneralPage, { global: fake.global });
}

describe('General page', () => {
  it('shows the owner connection without warnings', async () => {
    const wrapper = mountPage(ownerConnection);
    await flushPromises();
    const facts = wrapper.find('[data-test="connection-role"]').text();
    expect(facts).toMatch(/Connects as\s*workload_tracker_owner/);
    expect(facts).toMatch(/Database owner\s*workload_tracker_owner/);
    expect(facts).toMatch(/Restore mode\s*Owner: restores run as workload_tracker_owner/);
    expect(wrapper.find('[data-test="superuser-connection"]').exists()).toBe(false);
    expect(wrapper.find('[data-test="owner-risks"]').exists()).toBe(false);
  });

  it('warns about a superuser connection', async () => {
    const wrapper = mountPage({ ...ownerConnection, role: 'postgres', superuser: true });
    await flushPromises();
    expect(wrapper.find('[data-test="connection-role"]').text()).toContain('Superuser: each restore logs in');
    const warning = wrapper.find('[data-test="superuser-connection"]');
    expect(warning.attributes('role')).toBe('status');
    expect(warning.text()).toContain('the recommended setup is the owner connection — see docs/security.md');
  });

  it('says restores are refused while the owner has risky rights', async () => {
    const wrapper = mountPage({
      ...ownerConnection,
      ownerRisks: ['CREATEROLE', 'membership in pg_read_server_files'],
    });
    await flushPromises();
    const error = wrapper.find('[data-test="owner-risks"]');
    expect(error.attributes('role')).toBe('alert');
    expect(error.text()).toContain('Restores are refused until this is fixed');
    expect(error.text()).toContain('CREATEROLE, membership in pg_read_server_files');
  });

  it('says when the role is unknown (the database is not reachable)', async () => {
    const wrapper = mountPage(null);
    await flushPromises();
    expect(wrapper.text()).toContain('Unknown: the database is not reachable.');
  });
});
