package io.dalang.engine;

class InProcessLlamaEngineTest extends EngineContract {
  @Override
  protected Engine newEngine(EngineConfig config) {
    return new InProcessLlamaEngine(config);
  }
}
