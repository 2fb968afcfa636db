import ArgumentParser
@main struct GatewayCommand: ParsableCommand {}
