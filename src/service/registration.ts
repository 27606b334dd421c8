import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import type { UiaEngine } from '../uia/engine.js';
import { recaptchaStage } from '../uia/stages/recaptcha.js';
import { type V1Credentials, v1PasswordStage } from '../uia/stages/v1-password.js';
import type { AuthDict, Stage, UiaOperation } from '../uia/types.js';
import type { CaptchaVerifier } from './captcha.js';
import type { UserService } from './users.js';

/** A v1 registration flow as the seed lists it: `type` is the first stage, `stages` all of them. */
export interface V1Flow {
  type: string;
  stages?: string[];
}

export type V1Result =
  | { kind: 'next'; next: string; session: string }
  | { kind: 'registered'; userId: string; accessToken: string; deviceId: string; homeServer: string };

/** Registration: the flows the config offers, and the v1 protocol (the seed). */
export class RegistrationService {
  private readonly v1Op: UiaOperation;

  constructor(
    private readonly deps: {
      config: Config;
      uia: UiaEngine;
      users: UserService;
      captcha: CaptchaVerifier | null;
    },
  ) {
    const { config } = deps;
    const stages = new Map<string, Stage>();
    stages.set('m.login.password', v1PasswordStage(deps.users, config.serverName, config.passwordPolicy));
    if (deps.captcha !== null) stages.set('m.login.recaptcha', recaptchaStage(deps.captcha, config.recaptchaPublicKey));
    this.v1Op = {
      name: 'register.v1',
      flows: config.enableRegistrationCaptcha ? [['m.login.recaptcha', 'm.login.password']] : [['m.login.password']],
      stages,
      userId: null,
      persistBody: () => ({}),
    };
  }

  /** GET /register (v1): "All login stages MUST be mentioned if there is >1 login type" (seed). */
  v1Flows(): V1Flow[] {
    return this.v1Op.flows.map((f) => (f.length > 1 ? { type: f[0]!, stages: [...f] } : { type: f[0]! }));
  }

  private assertEnabled(): void {
    if (!this.deps.config.enableRegistration) {
      throw new MatrixError('M_FORBIDDEN', 'Registration has been disabled');
    }
  }

  /**
   * POST /register (v1): one stage per request. A non-final stage answers `next` + `session`
   * (seed: a multi-stage step MUST carry `session`); the last one creates the account and logs
   * it in. The session is gone once registration finishes (conformance A4.3).
   */
  async submitV1(stage: AuthDict & { type: string }, remoteIp: string): Promise<V1Result> {
    this.assertEnabled();
    const { uia } = this.deps;
    const session = stage.session === undefined ? null : await uia.loadSession(this.v1Op, stage.session);
    const outcome = await uia.submitStage(this.v1Op, session, stage, remoteIp);
    if (!outcome.done) {
      return { kind: 'next', next: outcome.next[0]!, session: outcome.session.session_id };
    }
    const creds = outcome.completed.find((c) => c.stage === 'm.login.password')?.data as V1Credentials;
    const password = stage.password as string;
    const registered = await this.deps.users.register({
      localpart: creds.localpart,
      password: { plain: password },
      isGuest: false,
      isAdmin: false,
      login: { deviceId: null, initialDisplayName: null, refreshToken: false },
    });
    if (outcome.stored) await this.deps.uia.deleteSession(outcome.session.session_id);
    return {
      kind: 'registered',
      userId: registered.userId,
      accessToken: registered.accessToken!,
      deviceId: registered.deviceId!,
      homeServer: this.deps.config.serverName,
    };
  }
}
