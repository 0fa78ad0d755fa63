import type { Command } from 'commander';
import { runAnalyze } from '../roles/analyze.js';
import { FLAG } from './config-options.js';
import { KAFKA_FLAG } from './kafka-flags.js';
import { kafkaRoleCommand } from './role-command.js';

export const analyzeCommand = (): Command =>
  kafkaRoleCommand({
    name: 'analyze',
    description: 'role: consume raw posts from Kafka (consumer group; run several replicas), score them, produce scored posts',
    flags: [FLAG.model, FLAG.threads, FLAG.maxBatch, FLAG.port, FLAG.limit, KAFKA_FLAG.brokers, KAFKA_FLAG.encoding, KAFKA_FLAG.compression],
    run: runAnalyze,
    did: (s) => `scored to ${s.topic}`,
  });
