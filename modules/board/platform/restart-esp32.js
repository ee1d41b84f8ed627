/*
 * board-restart (ESP32): `restart()` reboots the chip at once (native, esp_restart).
 */
function restart() @ "xs_board_restart";
export default restart;
