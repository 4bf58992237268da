/**
 * Compile-time typing checks: `tsc --noEmit` type-checks this file, so the expectTypeOf
 * assertions and @ts-expect-error lines fail the typecheck if field value typing regresses.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  composite, createMessage, defineSpec, fixed, llvar, lllvar, peek, specFromJSON, sub, unpack,
  type FieldValue, type IsoMessage, type TlvItem,
} from '../../src/iso8583/index.js';
import { cupPos, getSpec } from '../../src/specs/index.js';

const spec = defineSpec({
  name: 'typed',
  mti: { encoding: 'bcd' },
  bitmap: { encoding: 'binary', secondary: false },
  fields: {
    2: llvar.n(19, { prefix: 'bcd', encoding: 'bcd', sensitive: 'pan' }),
    11: fixed.n(6, { encoding: 'bcd' }),
    35: llvar.z(37, { prefix: 'bcd', encoding: 'bcd' }),
    41: fixed.ans(8),
    55: lllvar.tlv(255, { prefix: 'bcd' }),
    60: composite('LLL', 17, {
      1: sub.n(2, 'Message type code'),
      2: sub.n(6, 'Batch number'),
      3: sub.n(3, 'Network management code'),
      4: sub.n(1, 'Terminal capability', { optional: true }),
    }, { encoding: 'bcd', prefix: 'bcd', align: 'left' }),
    62: lllvar.b(512, { prefix: 'bcd' }),
  },
});

describe('compile-time field typing', () => {
  it('values are typed from definitions', () => {
    const m = createMessage(spec, '0800', { 11: '000001', 60: { 1: '00', 2: '000519', 3: '003' } });
    expectTypeOf(m.get(2)).toEqualTypeOf<string | undefined>();
    expectTypeOf(m.get(35)).toEqualTypeOf<string | undefined>();
    expectTypeOf(m.get(62)).toEqualTypeOf<Buffer | undefined>();
    expectTypeOf(m.get(55)).toEqualTypeOf<TlvItem[] | undefined>();
    expectTypeOf(m.get(60)).toEqualTypeOf<{ 1: string; 2: string; 3: string; 4?: string } | undefined>();
    expectTypeOf(() => unpack(spec, Buffer.alloc(0))).returns.toEqualTypeOf<IsoMessage<typeof spec.fields>>();
    expectTypeOf<FieldValue<typeof spec.fields[62]>>().toEqualTypeOf<Buffer>();
    expectTypeOf(() => peek(spec, Buffer.alloc(0), [11, 41]).fields).returns.toEqualTypeOf<{ 11?: string; 41?: string }>();
  });

  it('wrong field numbers and value types do not compile', () => {
    const m = createMessage(spec, '0800');
    // @ts-expect-error field 99 is not defined by this spec
    void (() => m.get(99));
    // @ts-expect-error field 3 is not defined by this spec
    void (() => m.set(3, '000000'));
    // @ts-expect-error field 62 is binary
    void (() => m.set(62, 'ABCD'));
    // @ts-expect-error field 11 is text
    void (() => m.set(11, Buffer.alloc(3)));
    // @ts-expect-error 60.3 is required
    void (() => m.set(60, { 1: '00', 2: '000519' }));
    // @ts-expect-error unknown field in createMessage
    void (() => createMessage(spec, '0800', { 12: '101010' }));
    m.set(60, { 1: '00', 2: '000519', 3: '003', 4: '5' });
    m.set(55, [{ tag: '9F26', value: Buffer.alloc(8) }]);
  });

  it('shipped specs are typed too', () => {
    const m = createMessage(cupPos, '0200');
    expectTypeOf(m.get(62)).toEqualTypeOf<Buffer | undefined>();
    expectTypeOf(m.get(63)).toEqualTypeOf<string | undefined>();
    expectTypeOf(m.get(60)).toEqualTypeOf<
      { 1: string; 2: string; 3: string; 4?: string; 5?: string; 6?: string; 7?: string } | undefined
    >();
    // @ts-expect-error cup-pos has a primary bitmap only
    void (() => m.get(99));
    const iso = createMessage(getSpec('iso87-binary'), '0800');
    expectTypeOf(iso.get(128)).toEqualTypeOf<Buffer | undefined>();
    expectTypeOf(iso.get(70)).toEqualTypeOf<string | undefined>();
    // @ts-expect-error field 65 (tertiary bitmap) is not a field
    void (() => iso.get(65));
  });

  it('JSON-loaded specs are untyped but usable', () => {
    const loose = createMessage(specFromJSON({ name: 'x', mti: { encoding: 'ascii' }, bitmap: { encoding: 'hex', secondary: false }, fields: {} }), '0800');
    expectTypeOf(loose.get).parameter(0).toEqualTypeOf<number>();
  });
});
