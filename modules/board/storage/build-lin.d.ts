// board/storage/build-lin: "<library path>\n<stamp>" of the simulator build that runs, or undefined (Linux simulator only; native, see build-lin.js and .c).
export default function simulatorBuild(): string | undefined;
