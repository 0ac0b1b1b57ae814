import { createMemoryHistory, createRouter } from 'vue-router';
import { defineComponent } from 'vue';

/** A router for components that link (RouterLink needs one); every path renders nothing. */
export function testRouter() {
  return createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/:any(.*)*', component: defineComponent({ render: () => null }) }],
  });
}
