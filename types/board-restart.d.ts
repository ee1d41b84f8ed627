// board-restart: reboots the board (ESP32 only; see restart-esp32.js).
declare module "board-restart" {
	export default function restart(): void;
}
