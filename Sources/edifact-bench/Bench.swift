import EDIFACT
@main struct Bench { static func main() {} }
