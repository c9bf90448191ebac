import { describe, expect, it } from 'vitest';
import type { ProcessUnavailableReason } from '../gql/graphql';
import { processDescription, processTitle, unavailableText } from './processes';

describe('process words', () => {
  it('ok/the keys of get-virtual-smart-card read as before', () => {
    const p = {
      name: 'get-virtual-smart-card',
      displayName: 'process.get-virtual-smart-card.name',
      description: 'process.get-virtual-smart-card.description',
    };
    expect(processTitle(p)).toBe('Get virtual smart card');
    expect(processDescription(p)).toMatch(/PIN you choose/);
  });

  it('ok/a process this portal has no words for shows no key', () => {
    const p = { name: 'renew-virtual-smart-card', displayName: 'process.renew-virtual-smart-card.name', description: 'process.renew-virtual-smart-card.description' };
    expect(processTitle(p)).toBe('Renew virtual smart card');
    expect(processDescription(p)).toBe('');
  });

  it('ok/every reason has words, and no code shows through', () => {
    const reasons: ProcessUnavailableReason[] = ['USER_NOT_ACTIVE', 'CARD_NOT_IN_REQUIRED_STATE', 'ORDER_RUNNING', 'NOT_PERMITTED'];
    for (const r of reasons) {
      const text = unavailableText(r);
      expect(text.length).toBeGreaterThan(10);
      expect(text).not.toContain(r);
    }
    expect(unavailableText('USER_NOT_ACTIVE', 'INACTIVE')).toMatch(/inactive/i);
  });
});
