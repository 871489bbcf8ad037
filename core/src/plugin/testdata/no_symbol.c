/* A shared library that is not a MoonComm plugin: it exports no mc_plugin_v<N>. */
int mc_test_not_a_plugin(void) { return 42; }
