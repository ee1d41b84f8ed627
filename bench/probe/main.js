// Bench entry point (creation.main of bench builds): start the probe, then load the app's
// own main on the next turn, outside this module's evaluation (as when it is the main).
import "bench/probe";
import Timer from "timer";

Timer.set(() => import("main"));
