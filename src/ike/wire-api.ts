/** The slice of the wire codec the IKE core uses (one import point for tasks). */
export {
  checkRules,
} from './wire/rules.js';
export {
  DecryptError,
  FragmentReassembler,
  decodeDatagram,
  decodeHeader,
  decodeMessage,
  encodeMessage,
  findNotifies,
  findNotify,
  findPayload,
  findPayloads,
  fragmentMessage as fragmentOut,
  messageFromReassembled,
} from './wire/message.js';
