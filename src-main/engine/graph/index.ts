// The engine's graph compiler: tensor DSL, ONNX serialization, autodiff, optimizer steps.
export * from './dims.js';
export * from './graph.js';
export * as ops from './ops.js';
export * as contrib from './contrib.js';
export { OPSET, END } from './ops.js';
export * from './onnx.js';
export * from './autodiff.js';
export { gradRules, unbroadcast, type GradRule } from './grad-rules.js';
export * from './optim.js';
