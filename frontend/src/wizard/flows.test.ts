import { describe, expect, it } from 'vitest';

import { LANGUAGES } from '../i18n';
import { processTitle, unavailableText } from '../lib/processes';
import { FLOW_NAMES, flowOf, type Flow } from './flows';
import { canProceed, phaseOf } from './orderState';

describe('lock and unlock flows', () => {
  it('ok/lock asks whether to hold the encryption certificate, holding it by default', () => {
    const lock = flowOf('lock-virtual-smart-card');
    expect(lock.choices?.map((c) => [c.name, c.default])).toEqual([['holdEncryptionCertificate', true]]);
  });
  it('ok/no Desktop App: the intro, then done', () => {
    for (const name of ['lock-virtual-smart-card', 'unlock-virtual-smart-card']) {
      const flow = flowOf(name);
      expect(flow.phases.map((p) => p.phase)).toEqual(['intro', 'done']);
      expect(canProceed('STARTED', flow)).toBe(true);
      expect(phaseOf('COMPLETED', flow)).toBe('done');
    }
  });
  it('ok/a person who may not unlock is told who can', () => {
    expect(unavailableText('NOT_PERMITTED', 'ACTIVE', 'unlock-virtual-smart-card')).toBe('Ask an administrator to unlock this card.');
  });
  it('ok/the portal has words for both', () => {
    expect(processTitle({ name: 'lock-virtual-smart-card', displayName: 'process.lock-virtual-smart-card.name' })).toBe('Lock card');
    expect(processTitle({ name: 'unlock-virtual-smart-card', displayName: 'process.unlock-virtual-smart-card.name' })).toBe('Unlock card');
  });
});

describe('unblock-pin-offline flow', () => {
  it('ok/asks for the challenge and ends on the response, without the Desktop App page', () => {
    const flow = flowOf('unblock-pin-offline');
    expect(flow.challenge).toBe(true);
    expect(flow.phases.map((p) => p.phase)).toEqual(['intro', 'done']);
    expect(canProceed('STARTED', flow)).toBe(true);
    expect(phaseOf('COMPLETED', flow)).toBe('done');
    expect(processTitle({ name: 'unblock-pin-offline', displayName: 'process.unblock-pin-offline.name' })).toBe('Unblock PIN offline');
  });
});

describe('renew and add-certificates flows', () => {
  it('ok/the Desktop App connects, the certificates are issued, then the order completes', () => {
    for (const name of ['renew-virtual-smart-card', 'issue-certificates-to-virtual-smart-card']) {
      const flow = flowOf(name);
      expect(flow.progress.map((p) => p.state)).toEqual(['DESKTOP_APP_CONNECTED', 'ISSUING_CERTIFICATES', 'COMPLETED']);
      expect(canProceed('STARTED', flow)).toBe(true);
      expect(canProceed('ISSUING_CERTIFICATES', flow)).toBe(false);
      expect(phaseOf('ISSUING_CERTIFICATES', flow)).toBe('desktop');
      expect(phaseOf('COMPLETED', flow)).toBe('done');
    }
  });
  it('ok/the portal has words for both, and for a card that has every certificate', () => {
    expect(processTitle({ name: 'renew-virtual-smart-card', displayName: 'process.renew-virtual-smart-card.name' })).toBe('Renew card');
    expect(
      processTitle({ name: 'issue-certificates-to-virtual-smart-card', displayName: 'process.issue-certificates-to-virtual-smart-card.name' }),
    ).toBe('Add certificates');
    expect(unavailableText('NOTHING_TO_ISSUE', 'ACTIVE', 'issue-certificates-to-virtual-smart-card')).toBe(
      'The card already has every certificate your organisation gives.',
    );
  });
});

describe('replace and delete flows', () => {
  it("ok/replace is get-virtual-smart-card's wizard, with the lost-or-stolen question first", () => {
    const replace = flowOf('replace-virtual-smart-card');
    const get = flowOf('get-virtual-smart-card');
    expect(replace.phases).toEqual(get.phases);
    expect(replace.progress).toEqual(get.progress);
    expect(replace.reviewStates).toEqual(get.reviewStates);
    expect(replace.choices?.map((c) => [c.name, c.default])).toEqual([['lostOrStolen', false]]);
    expect(phaseOf('CARD_READY', replace)).toBe('review');
  });
  it('ok/delete is a server step: the intro, then done', () => {
    const del = flowOf('delete-virtual-smart-card');
    expect(del.phases.map((p) => p.phase)).toEqual(['intro', 'done']);
    expect(canProceed('STARTED', del)).toBe(true);
  });
  it('ok/a blocked PUK sends the person to Replace', () => {
    expect(unavailableText('PUK_BLOCKED', 'ACTIVE', 'reset-pin')).toMatch(/Replace the card/);
    expect(processTitle({ name: 'replace-virtual-smart-card', displayName: 'process.replace-virtual-smart-card.name' })).toBe('Replace card');
    expect(processTitle({ name: 'delete-virtual-smart-card', displayName: 'process.delete-virtual-smart-card.name' })).toBe('Delete card');
  });
});

/** words lists what a flow says, by where it says it (done with and without a serial). */
function words(flow: Flow): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (v: unknown, path: string) => {
    if (typeof v === 'string') out[path] = v;
    else if (typeof v === 'function') {
      out[`${path}(serial)`] = String(v('VC1'));
      out[`${path}()`] = String(v(undefined));
    } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
  };
  const { reviewStates: _r, nextStates: _n, again: _a, ...said } = flow;
  walk(said, '');
  // States and choice names are for the program, not for a person.
  for (const k of Object.keys(out)) if (/\.(state|phase|name)$/.test(k)) delete out[k];
  return out;
}

/** untranslated lists the words of flow that are still as in English (a missing key falls back to English). */
function untranslated(flow: Flow, en: Flow): string[] {
  const mine = words(flow);
  return Object.entries(words(en))
    .filter(([k, v]) => v !== '' && mine[k] === v)
    .map(([k, v]) => `${k}: ${v}`);
}

describe("every process's wizard speaks every language", () => {
  const names = [...FLOW_NAMES, 'some-new-process'];
  it('ok/the processes with a wizard of their own are all there', () => {
    expect(FLOW_NAMES).toContain('change-pin');
    expect(FLOW_NAMES.length).toBeGreaterThanOrEqual(10);
  });
  for (const name of names) {
    for (const lng of LANGUAGES) {
      it(`ok/${name} has its words in ${lng}`, () => {
        const flow = flowOf(name, lng);
        const said = words(flow);
        // A key the catalogue lacks in every language comes back as the key itself.
        const keys = Object.entries(said).filter(([, v]) => /^[\w-]+(\.[\w-]+)+$/.test(v) || /\bflow\.|\{\{/.test(v));
        expect(keys, `${name} in ${lng}`).toEqual([]);
        expect(said['headings.intro']).not.toBe('');
        if (name !== 'get-virtual-smart-card') expect(flow.introSteps.length).toBeGreaterThan(0);
        if (lng !== 'en') expect(untranslated(flow, flowOf(name, 'en')), `${name} in ${lng}`).toEqual([]);
      });
    }
  }
  it('ok/the check sees words left in English (a language without catalogue)', () => {
    expect(untranslated(flowOf('change-pin', 'fr'), flowOf('change-pin', 'en')).length).toBeGreaterThan(5);
  });
  it('ok/German, with the serial', () => {
    const lock = flowOf('lock-virtual-smart-card', 'de');
    expect(lock.headings.intro).toBe('Karte sperren');
    expect(lock.done('42')).toBe('Karte 42 ist gesperrt und ihre Zertifikate sind ausgesetzt.');
    expect(flowOf('renew-virtual-smart-card', 'de').progress.map((p) => p.label)).toEqual([
      'Desktop-App verbunden',
      'Zertifikate ausgestellt',
      'Karte erneuert',
    ]);
  });
});
