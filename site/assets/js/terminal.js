// terminal.js: xterm.js and the tty.v1 client in one bundle, which lab.js
// imports only when a lab's terminals open: the lab page itself stays small.
export { Terminal } from "@xterm/xterm";
export { FitAddon } from "@xterm/addon-fit";
export { TTY, nodeEndpoints, termOptions, restartButton, stalledText } from "./tty.js";
