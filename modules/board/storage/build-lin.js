/*
 * board/storage/build-lin (Linux simulator): `simulatorBuild()` is "<library path>\n<stamp>"
 * of the running mc.so, or undefined (native, see build-lin.c).
 */
function simulatorBuild() @ "xs_board_simulator_build";
export default simulatorBuild;
