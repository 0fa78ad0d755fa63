declare module 'sentiment' {
  interface AnalyzeResult {
    readonly score: number;
    readonly comparative: number;
  }
  class Sentiment {
    analyze(phrase: string): AnalyzeResult;
  }
  export default Sentiment;
}
