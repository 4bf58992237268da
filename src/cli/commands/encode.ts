import { parseArgs } from 'node:util';
import { fromJson, pack } from '../../iso8583/index.js';
import { encodeFrame } from '../../framing/index.js';
import type { Command } from '../command.js';
import { CliError } from '../errors.js';
import { parseJsonText, readFileArg, readStdin } from '../io.js';
import { resolveFrameProfile, resolveSpec } from '../spec-option.js';
import { headerFromJson, tpduFromJson } from '../frame-json.js';

export const encodeCommand: Command = {
  path: ['encode'],
  summary: 'Encode a message from JSON (as `decode --json` prints it) to hex',
  usage:
    'qiandao encode --spec cup-pos|iso87-ascii|iso87-binary|FILE.json [--frame] [--frame-profile cup|binary2|ascii4] [--file message.json]  (JSON on stdin by default)',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        spec: { type: 'string' },
        frame: { type: 'boolean', default: false },
        'frame-profile': { type: 'string' },
        file: { type: 'string' },
      },
    });
    if (positionals.length) throw new CliError(`unexpected argument '${positionals[0]}': the message is read as JSON from stdin or --file`);
    const spec = resolveSpec(values.spec);
    const text = values.file ? readFileArg(values.file, '--file').toString('utf8') : await readStdin();
    const doc = parseJsonText(text, values.file ?? 'standard input');
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CliError('the message must be a JSON object with "mti" and "fields"');
    const { tpdu, header, ...message } = doc as Record<string, unknown>;
    const body = pack(spec, fromJson(spec, message));
    let out = body;
    if (values.frame) {
      const profile = resolveFrameProfile(values['frame-profile'], spec);
      out = encodeFrame(profile, {
        body,
        ...(profile.tpdu ? { tpdu: tpduFromJson(tpdu) } : {}),
        ...(profile.header === 'cup' ? { header: headerFromJson(header) } : {}),
      });
    }
    process.stdout.write(out.toString('hex').toUpperCase() + '\n');
  },
};
