// lecturer-watch.js: what the console needs only to watch a trainee —
// xterm.js and the tty.v1 client to observe a terminal, asciinema-player to
// replay a recording. A bundle of its own, imported on first use, so the
// console opens without them.
export { Terminal } from "@xterm/xterm";
export { FitAddon } from "@xterm/addon-fit";
export * as AsciinemaPlayer from "asciinema-player";
export { TTY, nodeEndpoints, termOptions } from "./tty.js";
