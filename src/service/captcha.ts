/**
 * Captcha verification through a reCAPTCHA-style "siteverify" endpoint: a form POST of
 * `secret`, `response` and `remoteip`, answered with JSON `{"success": bool}`. Google
 * reCAPTCHA, hCaptcha and Cloudflare Turnstile all speak this protocol.
 */
export type CaptchaVerdict = 'ok' | 'refused' | 'unavailable';

export interface CaptchaVerifier {
  verify(response: string, remoteIp: string): Promise<CaptchaVerdict>;
}

export function createSiteverifyClient(opts: {
  url: string;
  secret: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}): CaptchaVerifier {
  const doFetch = opts.fetch ?? fetch;
  return {
    async verify(response, remoteIp) {
      const form = new URLSearchParams({ secret: opts.secret, response, remoteip: remoteIp });
      try {
        const res = await doFetch(opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
        if (!res.ok) return 'unavailable';
        const body = (await res.json()) as { success?: unknown };
        return body.success === true ? 'ok' : 'refused';
      } catch {
        return 'unavailable';
      }
    },
  };
}
