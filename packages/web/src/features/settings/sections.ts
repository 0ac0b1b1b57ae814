import type { RouteComponent } from 'vue-router';
import type { IconName } from '@/ui/Icon.vue';

/** The settings navigation and its routes come from this list: a section is one entry and its page. */
export interface SettingsSection {
  path: string;
  label: string;
  icon: IconName;
  component: () => Promise<RouteComponent>;
}

export const SETTINGS_SECTIONS: SettingsSection[] = [
  {
    path: 'dashboard',
    label: 'Dashboard',
    icon: 'gauge',
    component: () => import('../dashboard/DashboardPage.vue'),
  },
  { path: 'general', label: 'General', icon: 'info', component: () => import('../general/GeneralPage.vue') },
  {
    path: 'backups',
    label: 'Backup & Restore',
    icon: 'database',
    component: () => import('../backups/BackupsPage.vue'),
  },
  { path: 'targets', label: 'Targets', icon: 'server', component: () => import('../targets/TargetsPage.vue') },
  {
    path: 'destinations',
    label: 'Destinations',
    icon: 'archive',
    component: () => import('../destinations/DestinationsPage.vue'),
  },
  { path: 'keys', label: 'Keys', icon: 'lock', component: () => import('../keys/KeysPage.vue') },
  {
    path: 'schedules',
    label: 'Schedules',
    icon: 'calendar',
    component: () => import('../schedules/SchedulesPage.vue'),
  },
  {
    path: 'retention',
    label: 'Retention',
    icon: 'archive',
    component: () => import('../retention/RetentionPage.vue'),
  },
  { path: 'jobs', label: 'Jobs', icon: 'clock', component: () => import('../jobs/JobsPage.vue') },
  { path: 'audit', label: 'Audit log', icon: 'list', component: () => import('../audit/AuditPage.vue') },
  { path: 'tokens', label: 'API tokens', icon: 'key', component: () => import('../tokens/TokensPage.vue') },
];
