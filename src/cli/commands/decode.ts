import { parseArgs } from 'node:util';
import { dump, toJson, unpack } from '../../iso8583/index.js';
import { decodeWholeFrame, lengthHeaderSize, type CupHeader, type FrameProfile, type ParsedFrame } from '../../framing/index.js';
import type { Command } from '../command.js';
import { hexInput, printJson } from '../io.js';
import { resolveFrameProfile, resolveSpec } from '../spec-option.js';
import { frameToJson, hexByte } from '../frame-json.js';

const REQUIREMENTS = [
  'none',
  'download parameters',
  'upload status',
  'sign on again',
  'download CA public keys',
  'download IC parameters',
  'download application',
  'download blacklist',
];


function headerLine(h: CupHeader): string {
  const app = h.applicationType === 0x60 ? 'magnetic stripe' : h.applicationType === 0x61 ? 'IC card' : 'other';
  return (
    `header   application ${hexByte(h.applicationType)} (${app}), software ` +
    `${hexByte(h.softwareVersion)}, terminal status ${h.terminalStatus}, processing requirement ` +
    `${h.processingRequirement} (${REQUIREMENTS[h.processingRequirement] ?? '?'}), sub-version ${h.subVersion}`
  );
}

export const decodeCommand: Command = {
  path: ['decode'],
  summary: 'Decode an ISO 8583 message (or a whole frame with --frame) from hex',
  usage:
    'qiandao decode --spec cup-pos|iso87-ascii|iso87-binary|FILE.json [--frame] [--frame-profile cup|binary2|ascii4] [--json] [--reveal] [HEX]  (HEX or stdin)',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        spec: { type: 'string' },
        frame: { type: 'boolean', default: false },
        'frame-profile': { type: 'string' },
        json: { type: 'boolean', default: false },
        reveal: { type: 'boolean', default: false },
      },
    });
    const spec = resolveSpec(values.spec);
    const bytes = await hexInput(positionals.join('') || undefined);
    let frame: ParsedFrame | undefined;
    let profile: FrameProfile | undefined;
    let body = bytes;
    if (values.frame) {
      profile = resolveFrameProfile(values['frame-profile'], spec);
      frame = decodeWholeFrame(profile, bytes);
      body = frame.body;
    }
    const msg = unpack(spec, body);
    msg.decodeAll(); // surface any field error now, with its field number and offset
    const reveal = values.reveal;
    if (values.json) {
      printJson({ ...toJson(spec, msg, { reveal }), ...(frame ? frameToJson(frame) : {}) });
      return;
    }
    const lines: string[] = [];
    if (frame && profile) {
      lines.push(`length   ${bytes.length - lengthHeaderSize(profile.lengthHeader)} (${profile.lengthHeader} length header), ISO 8583 body ${body.length} bytes`);
      if (frame.tpdu) lines.push(`TPDU     ${hexByte(frame.tpdu.id)} destination ${frame.tpdu.destination} source ${frame.tpdu.source}`);
      if (frame.header) lines.push(headerLine(frame.header));
    }
    lines.push(dump(spec, msg, { reveal }));
    if (reveal) process.stderr.write('qiandao: --reveal shows sensitive data in clear: use with test data only\n');
    process.stdout.write(lines.join('\n') + '\n');
  },
};
