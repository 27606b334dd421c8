import { Type } from 'typebox';
import { defineRoute, htmlReply, type Route } from '../route.js';

/**
 * The terms of service (Synapse's `user_consent`): the policy pages the `m.login.terms` params
 * link to (spec "Terms of service at registration"), at Synapse's path. `v` is the version and
 * `lang` the language (Tessera's; Synapse serves only English). Synapse's `u` and `h` (a user's
 * signed consent link from a server notice) are accepted and ignored: Tessera sends no notices
 * and records consent only at registration, so every visitor gets the page to read.
 */
const ConsentQuery = Type.Object({
  v: Type.Optional(Type.String()),
  lang: Type.Optional(Type.String()),
  u: Type.Optional(Type.String()),
  h: Type.Optional(Type.String()),
});

export const consentRoutes: Route[] = [
  // GET /_matrix/consent?v=<version>&lang=<lang>
  defineRoute<'none', undefined, typeof ConsentQuery>(
    {
      method: 'GET',
      paths: ['/_matrix/consent'],
      auth: 'none',
      summary: 'The terms of service (user_consent) as HTML',
      querystring: ConsentQuery,
    },
    async ({ query, services }) => htmlReply(200, services.consent.page(query.v, query.lang)),
  ),
];
