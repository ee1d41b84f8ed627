// board/platform/restart-esp32: reboots the board (ESP32 only; native, see restart-esp32.js and .c).
export default function restart(): void;
